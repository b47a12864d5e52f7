//! What opened a breaker, in words, for `/health` and the status page.

use brownout::{TripCause, TripSnapshot};

/// The trip cause's machine name, as the core serialises it
/// (`consecutive_failures`, `failure_rate`, ...).
pub(super) fn cause_name(cause: TripCause) -> String {
    match serde_json::to_value(cause) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{cause:?}"),
    }
}

/// What opened the breaker, with the counts it saw then: `5 consecutive
/// failures`, `failure rate: 6 of 10 calls failed`, ...
pub(super) fn trip(trip: &TripSnapshot) -> String {
    match trip.cause {
        TripCause::ConsecutiveFailures => {
            format!("{} consecutive failures", trip.consecutive_failures)
        }
        TripCause::FailureRate => match trip.window {
            Some(w) => format!("failure rate: {} of {} calls failed", w.failures, w.calls),
            None => "failure rate".to_owned(),
        },
        TripCause::SlowCallRate => match trip.window {
            Some(w) => format!("slow-call rate: {} of {} calls slow", w.slow_calls, w.calls),
            None => "slow-call rate".to_owned(),
        },
        TripCause::TrialFailed => "a half-open trial failed".to_owned(),
        TripCause::TrialsTimedOut => "half-open trials did not answer in time".to_owned(),
        TripCause::Forced => "forced open by hand".to_owned(),
        TripCause::Peers => "a quorum of peer replicas reported it down".to_owned(),
        other => cause_name(other),
    }
}
