//! Errors: configuration, startup and operator commands.

use std::time::Duration;

/// An invalid `[fleet]` table or [`FleetConfig`](crate::FleetConfig).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}", if field.is_empty() { String::new() } else { format!("{field}: ") })]
pub struct FleetConfigError {
    /// The path of the field (`fleet.quorum`), empty for a syntax error or
    /// an unreadable file.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Why starting a [`Fleet`](crate::Fleet) or an operator command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FleetError {
    /// The configuration is invalid.
    #[error("invalid fleet configuration: {0}")]
    Config(#[from] FleetConfigError),
    /// The Redis URL cannot be used.
    #[error("invalid Redis URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL, with any password masked.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// Redis did not answer (refused, reset, or no answer within the
    /// command timeout).
    #[error("Redis at {url} is unreachable: {reason}")]
    Unreachable {
        /// The URL, with any password masked.
        url: String,
        /// The last error seen.
        reason: String,
    },
    /// A command was answered with an error (authentication, a read-only
    /// replica, a key of the wrong type).
    #[error("Redis refused the command: {0}")]
    Command(String),
    /// [`Fleet::start`](crate::Fleet::start) was called outside a tokio runtime.
    #[error("the fleet needs a tokio runtime")]
    NoRuntime,
    /// An override needs a time to live above zero.
    #[error("a fleet override needs a TTL of at least 1ms (got {0:?})")]
    InvalidTtl(Duration),
}

impl FleetError {
    pub(crate) fn from_redis(url: &str, error: &redis::RedisError) -> Self {
        if error.is_io_error()
            || error.is_timeout()
            || error.is_connection_dropped()
            || error.is_connection_refusal()
            || error.is_unrecoverable_error()
        {
            FleetError::Unreachable {
                url: url.to_owned(),
                reason: error.to_string(),
            }
        } else {
            FleetError::Command(error.to_string())
        }
    }
}

/// `url` with the password (anything between `:` and `@` in the authority) masked.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{scheme}://{user}:***@{host}{path}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            redact("redis://user:secret@host:6379/0"),
            "redis://user:***@host:6379/0"
        );
        assert_eq!(redact("redis://:secret@host/"), "redis://:***@host/");
        assert_eq!(redact("redis://host:6379/"), "redis://host:6379/");
        assert_eq!(redact("not a url"), "not a url");
    }

    #[test]
    fn config_errors_read_well() {
        let e = FleetConfigError {
            field: "fleet.quorum".into(),
            reason: "must be a share in (0, 1]".into(),
        };
        assert_eq!(e.to_string(), "fleet.quorum: must be a share in (0, 1]");
    }
}
