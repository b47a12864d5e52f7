//! Wall-clock timestamps (RFC 3339, UTC) and short durations for humans.
//!
//! The manager measures "how long ago" on its own clock; the routes turn
//! that into a point in wall-clock time as `now - ago`, with `now` read once
//! per response so every timestamp in one answer agrees.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `now - ago`, or the Unix epoch if that would come before it.
pub(super) fn before(now: SystemTime, ago: Duration) -> SystemTime {
    now.checked_sub(ago)
        .filter(|t| *t >= UNIX_EPOCH)
        .unwrap_or(UNIX_EPOCH)
}

/// `time` as RFC 3339 in UTC with milliseconds: `2024-02-29T23:59:59.250Z`.
pub(super) fn rfc3339_millis(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:03}Z", civil(since.as_secs()), since.subsec_millis())
}

/// `time` as RFC 3339 in UTC to the second: `2024-02-29T23:59:59Z`.
pub(super) fn rfc3339_secs(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{}Z", civil(since.as_secs()))
}

/// `YYYY-MM-DDTHH:MM:SS` for `secs` seconds after the Unix epoch.
fn civil(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date `days` days after 1970-01-01 (Howard
/// Hinnant's `civil_from_days`, for non-negative day counts).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01, so leap days end each 400-year era.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097; // day of era, [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of year from March 1
    let mp = (5 * doy + 2) / 153; // month from March, [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = era * 400 + yoe + u64::from(month <= 2);
    (year, month, day)
}

/// A short duration for people: `0 s`, `42 s`, `3 min 12 s`, `2 h 5 min`,
/// `3 d 4 h`.
pub(super) fn human(duration: Duration) -> String {
    let secs = duration.as_secs();
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        3600..86_400 => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
        _ => format!("{} d {} h", secs / 86_400, secs % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
    }

    #[test]
    fn formats_rfc3339_in_utc() {
        // Checked against `date -u -d @<secs> +%FT%TZ`.
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (68_169_600, "1972-02-29T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (978_307_199, "2000-12-31T23:59:59Z"),
            (1_709_251_199, "2024-02-29T23:59:59Z"),
            (1_735_689_600, "2025-01-01T00:00:00Z"),
            (4_107_542_400, "2100-03-01T00:00:00Z"),
            (253_402_300_799, "9999-12-31T23:59:59Z"),
        ];
        for (secs, expected) in cases {
            assert_eq!(rfc3339_secs(at(secs, 0)), expected, "{secs}");
        }
        assert_eq!(
            rfc3339_millis(at(1_709_251_199, 250)),
            "2024-02-29T23:59:59.250Z"
        );
        assert_eq!(rfc3339_millis(at(0, 7)), "1970-01-01T00:00:00.007Z");
    }

    #[test]
    fn before_saturates_at_the_epoch() {
        let now = at(100, 0);
        assert_eq!(before(now, Duration::from_secs(40)), at(60, 0));
        assert_eq!(before(now, Duration::from_secs(400)), UNIX_EPOCH);
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::from_millis(999)), "0 s");
        assert_eq!(human(Duration::from_secs(42)), "42 s");
        assert_eq!(human(Duration::from_secs(192)), "3 min 12 s");
        assert_eq!(human(Duration::from_secs(7_500)), "2 h 5 min");
        assert_eq!(
            human(Duration::from_secs(3 * 86_400 + 4 * 3600 + 9)),
            "3 d 4 h"
        );
    }
}
