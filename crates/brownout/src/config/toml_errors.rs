//! TOML parsing whose errors name the full field path.

use serde_path_to_error::{Path, Segment};

use super::check::{join, key};
use super::{BreakerConfig, Config};
use crate::error::ConfigError;

/// Keys of a `[dependencies.NAME]` table that are not the breaker's.
const DEPENDENCY_KEYS: [&str; 4] = [
    "weight",
    "max_level_when_open",
    "probe_timeout",
    "probe_interval",
];

/// Top-level tables other brownout crates read from the same file (the
/// fleet's `[fleet]`): the core skips them, their owners validate them.
const ADJACENT_TABLES: [&str; 1] = ["fleet"];

pub(super) fn parse(source: &str) -> Result<Config, ConfigError> {
    let mut table: toml::Table = toml::from_str(source).map_err(|e| syntax_error(&e))?;
    for adjacent in ADJACENT_TABLES {
        table.remove(adjacent);
    }
    let value = toml::Value::Table(table);
    serde_path_to_error::deserialize::<_, Config>(value.clone())
        .map_err(|e| refine(&value, segments(e.path()), &e.inner().to_string()))
}

fn syntax_error(e: &toml::de::Error) -> ConfigError {
    let message = e.message().trim().to_owned();
    ConfigError::new("", format!("invalid TOML: {message}"))
}

/// The path as raw keys (names unquoted), so names with dots stay whole.
fn segments(path: &Path) -> Vec<String> {
    path.iter()
        .map(|segment| match segment {
            Segment::Map { key } => key.clone(),
            Segment::Enum { variant } => variant.clone(),
            Segment::Seq { index } => index.to_string(),
            Segment::Unknown => "?".to_owned(),
        })
        .collect()
}

/// Keys joined with dots, each quoted where TOML would need it
/// (`dependencies."db.eu".weight`).
fn render(segments: &[String]) -> String {
    segments
        .iter()
        .fold(String::new(), |path, segment| join(&path, &key(segment)))
}

/// Turns serde's message at `path` into a path that ends at the offending key.
///
/// Keys flattened into a dependency's breaker are reported by serde at the
/// dependency table; deserialising the breaker keys alone finds the key.
fn refine(root: &toml::Value, path: Vec<String>, message: &str) -> ConfigError {
    if let Some(err) = key_error(&path, message) {
        return err;
    }
    if let [table, name] = path.as_slice()
        && table == "dependencies"
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
            let mut inner_path = path.clone();
            inner_path.extend(segments(inner.path()));
            let inner_message = inner.inner().to_string();
            return key_error(&inner_path, &inner_message)
                .unwrap_or_else(|| ConfigError::new(render(&inner_path), clean(&inner_message)));
        }
    }
    ConfigError::new(render(&path), clean(message))
}

/// `unknown field `x`` and `missing field `x``: the key belongs in the path.
///
/// serde_path_to_error already ends the path of an unknown key with the key,
/// except in a dependency table (its breaker keys are flattened, so serde
/// reports them at the table); a missing key is always reported at its table.
fn key_error(path: &[String], message: &str) -> Option<ConfigError> {
    let dependency_table = matches!(path, [table, _] if table == "dependencies");
    for (prefix, reason, key_in_path) in [
        ("unknown field `", "unknown key", !dependency_table),
        ("missing field `", "missing required key", false),
    ] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let field = rest.split('`').next().unwrap_or_default();
            let mut full = path.to_vec();
            if !key_in_path {
                full.push(field.to_owned());
            }
            return Some(ConfigError::new(render(&full), reason));
        }
    }
    None
}

/// serde messages without the TOML crate's location decorations.
fn clean(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_owned()
}
