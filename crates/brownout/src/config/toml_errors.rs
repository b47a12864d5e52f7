//! TOML parsing whose errors name the full field path.

use super::{BreakerConfig, Config};
use crate::error::ConfigError;

/// Keys of a `[dependencies.NAME]` table that are not the breaker's.
const DEPENDENCY_KEYS: [&str; 3] = ["weight", "max_level_when_open", "probe_timeout"];

pub(super) fn parse(source: &str) -> Result<Config, ConfigError> {
    let table: toml::Table = toml::from_str(source).map_err(|e| syntax_error(&e))?;
    let value = toml::Value::Table(table);
    serde_path_to_error::deserialize::<_, Config>(value.clone())
        .map_err(|e| refine(&value, &e.path().to_string(), e.inner().to_string()))
}

fn syntax_error(e: &toml::de::Error) -> ConfigError {
    let message = e.message().trim().to_owned();
    ConfigError::new("", format!("invalid TOML: {message}"))
}

/// Turns serde's message at `path` into a path that ends at the offending key.
///
/// Keys flattened into a dependency's breaker are reported by serde at the
/// dependency table; deserialising the breaker keys alone finds the key.
fn refine(root: &toml::Value, path: &str, message: String) -> ConfigError {
    if let Some(err) = key_error(path, &message) {
        return err;
    }
    let mut segments = path.split('.');
    if let (Some("dependencies"), Some(name), None) =
        (segments.next(), segments.next(), segments.next())
        && let Some(toml::Value::Table(dep)) =
            root.get("dependencies").and_then(|deps| deps.get(name))
    {
        let mut breaker = dep.clone();
        for key in DEPENDENCY_KEYS {
            breaker.remove(key);
        }
        if let Err(inner) =
            serde_path_to_error::deserialize::<_, BreakerConfig>(toml::Value::Table(breaker))
        {
            let inner_path = format!("{path}.{}", inner.path());
            return key_error(&inner_path, &inner.inner().to_string()).unwrap_or_else(|| {
                ConfigError::new(inner_path, clean(&inner.inner().to_string()))
            });
        }
    }
    ConfigError::new(path.trim_start_matches('.'), clean(&message))
}

/// `unknown field `x`` and `missing field `x``: the key belongs in the path.
///
/// serde_path_to_error already ends the path of an unknown key with the key,
/// except in a dependency table (its breaker keys are flattened, so serde
/// reports them at the table); a missing key is always reported at its table.
fn key_error(path: &str, message: &str) -> Option<ConfigError> {
    let mut segments = path.split('.');
    let dependency_table = matches!(
        (segments.next(), segments.next(), segments.next()),
        (Some("dependencies"), Some(_), None)
    );
    for (prefix, reason, key_in_path) in [
        ("unknown field `", "unknown key", !dependency_table),
        ("missing field `", "missing required key", false),
    ] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let key = rest.split('`').next().unwrap_or_default();
            let base = if path == "." { "" } else { path };
            let path = if key_in_path {
                base.to_owned()
            } else {
                super::check::join(base, key)
            };
            return Some(ConfigError::new(path, reason));
        }
    }
    None
}

/// serde messages without the TOML crate's location decorations.
fn clean(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_owned()
}
