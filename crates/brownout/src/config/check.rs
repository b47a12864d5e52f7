//! Field checks that name the full path in their errors.

use std::borrow::Cow;
use std::time::Duration;

use crate::error::ConfigError;

/// A validation context: the path prefix of the table being checked.
pub(crate) struct Check<'a> {
    prefix: &'a str,
}

impl<'a> Check<'a> {
    pub(crate) fn new(prefix: &'a str) -> Self {
        Check { prefix }
    }

    pub(crate) fn err(&self, field: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError::new(join(self.prefix, field), reason)
    }

    /// A count in `1..=max`.
    pub(crate) fn count(&self, field: &str, value: u32, max: u32) -> Result<(), ConfigError> {
        if value == 0 {
            Err(self.err(field, "must be > 0"))
        } else if value > max {
            Err(self.err(field, format!("must be <= {max}")))
        } else {
            Ok(())
        }
    }

    /// A rate in (0, 1].
    pub(crate) fn rate(&self, field: &str, value: f64) -> Result<(), ConfigError> {
        if value.is_finite() && value > 0.0 && value <= 1.0 {
            Ok(())
        } else {
            Err(self.err(field, "must be a fraction in (0, 1]"))
        }
    }

    /// A duration that, when present, is not zero.
    pub(crate) fn nonzero(&self, field: &str, value: Option<Duration>) -> Result<(), ConfigError> {
        match value {
            Some(d) if d.is_zero() => Err(self.err(field, "must be > 0")),
            _ => Ok(()),
        }
    }
}

/// `prefix.field`, or `field` alone at the top.
pub(crate) fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

/// A name as a TOML key in a path: bare when TOML allows it (`openai`),
/// quoted otherwise (`"db.eu"`, `"a b"`, `""`), so a path stays unambiguous.
pub(crate) fn key(name: &str) -> Cow<'_, str> {
    let bare = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        Cow::Borrowed(name)
    } else {
        let mut quoted = String::with_capacity(name.len() + 2);
        quoted.push('"');
        for c in name.chars() {
            match c {
                '"' => quoted.push_str("\\\""),
                '\\' => quoted.push_str("\\\\"),
                c if c.is_control() => quoted.push_str(&c.escape_unicode().to_string()),
                c => quoted.push(c),
            }
        }
        quoted.push('"');
        Cow::Owned(quoted)
    }
}
