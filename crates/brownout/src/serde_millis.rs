//! Durations serialised as whole milliseconds.

use std::time::Duration;

use serde::Serializer;

/// A duration as milliseconds (saturating).
pub(crate) fn required<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// An optional duration as milliseconds, or `null`.
pub(crate) fn optional<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => required(d, s),
        None => s.serialize_none(),
    }
}
