//! `metrics` facade handles (feature `metrics`), registered once per breaker
//! and per manager so that no call builds a key or looks a name up.
//!
//! | metric | kind | labels | value |
//! |---|---|---|---|
//! | `brownout_calls_total` | counter | `dependency`, `outcome` (`success`, `failure`, `timeout`, `ignored`, `rejected`) | calls |
//! | `brownout_breaker_state` | gauge | `dependency` | 0 closed, 1 open, 2 half-open, 3 forced open, 4 disabled |
//! | `brownout_breaker_transitions_total` | counter | `dependency`, `from`, `to` | transitions |
//! | `brownout_health_score` | gauge | | 0 to 100 |
//! | `brownout_level` | gauge | | 0 EMERGENCY to 4 OPTIMAL |
//! | `brownout_feature_enabled` | gauge | `feature` | 1 on, 0 off |
//! | `brownout_requests_shed_total` | counter | `feature`, or `level` for level gates | requests refused by a gate |
//!
//! Handles bind to the recorder installed when the breaker or manager is
//! built: install the recorder first. Without the feature every method here is
//! an empty inline function.
//!
//! Per-call counts go into [striped counters](striped) and reach the
//! recorder when published: on every transition of the breaker, on
//! `snapshot()`, every second from the background task, and on
//! `flush_metrics()`. Everything else is set when it changes.

#[cfg(feature = "metrics")]
mod striped;

use crate::level::Level;
use crate::outcome::Outcome;
use crate::state::BreakerState;

/// The metric names, in one place (docs and dashboards are checked against them).
pub mod names {
    /// Calls by dependency and outcome (counter).
    pub const CALLS_TOTAL: &str = "brownout_calls_total";
    /// Breaker state by dependency (gauge, 0 closed … 4 disabled).
    pub const BREAKER_STATE: &str = "brownout_breaker_state";
    /// Breaker transitions by dependency, from and to (counter).
    pub const BREAKER_TRANSITIONS_TOTAL: &str = "brownout_breaker_transitions_total";
    /// The health score (gauge, 0 to 100).
    pub const HEALTH_SCORE: &str = "brownout_health_score";
    /// The effective level (gauge, 0 EMERGENCY to 4 OPTIMAL).
    pub const LEVEL: &str = "brownout_level";
    /// Whether a feature is on (gauge, 1 or 0).
    pub const FEATURE_ENABLED: &str = "brownout_feature_enabled";
    /// Requests refused by a gate, by `feature` (or `level` for level gates) (counter).
    pub const REQUESTS_SHED_TOTAL: &str = "brownout_requests_shed_total";
    /// Every name above.
    pub const ALL: [&str; 7] = [
        CALLS_TOTAL,
        BREAKER_STATE,
        BREAKER_TRANSITIONS_TOTAL,
        HEALTH_SCORE,
        LEVEL,
        FEATURE_ENABLED,
        REQUESTS_SHED_TOTAL,
    ];
}

/// One breaker's handles.
#[derive(Debug)]
pub(crate) struct BreakerTelemetry {
    #[cfg(feature = "metrics")]
    imp: imp::Breaker,
}

impl BreakerTelemetry {
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn new(dependency: &str) -> Self {
        BreakerTelemetry {
            #[cfg(feature = "metrics")]
            imp: imp::Breaker::new(dependency),
        }
    }

    /// One admitted call's recorded outcome.
    #[inline]
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn call(&self, outcome: Outcome) {
        #[cfg(feature = "metrics")]
        self.imp.call(outcome);
    }

    /// One rejected call.
    #[inline]
    pub(crate) fn rejected(&self) {
        #[cfg(feature = "metrics")]
        self.imp.counts.bump(striped::REJECTED);
    }

    /// Hands the per-call counts to the recorder.
    pub(crate) fn flush(&self) {
        #[cfg(feature = "metrics")]
        self.imp.flush();
    }

    /// A state change.
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn transition(&self, from: BreakerState, to: BreakerState) {
        #[cfg(feature = "metrics")]
        self.imp.transition(from, to);
    }
}

/// The manager's handles: score, level, one gauge per feature.
#[derive(Debug)]
pub(crate) struct ManagerTelemetry {
    #[cfg(feature = "metrics")]
    imp: imp::Manager,
}

impl ManagerTelemetry {
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn new<'a>(features: impl Iterator<Item = &'a str>) -> Self {
        ManagerTelemetry {
            #[cfg(feature = "metrics")]
            imp: imp::Manager::new(features),
        }
    }

    /// One request shed by a level gate needing `min_level` (only with the
    /// `metrics` feature: without it the caller skips even the lookup).
    #[cfg(feature = "metrics")]
    #[inline]
    pub(crate) fn level_shed(&self, min_level: Level) {
        self.imp.level_shed[usize::from(min_level.as_u8())].increment(1);
    }

    /// Publishes a recomputation: score, level and each feature's flag (in
    /// the order the features were given to [`ManagerTelemetry::new`]).
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn publish(&self, score: f64, level: Level, enabled: impl Iterator<Item = bool>) {
        #[cfg(feature = "metrics")]
        self.imp.publish(score, level, enabled);
    }
}

/// One feature gate's shed counter, registered once.
#[derive(Debug)]
pub(crate) struct ShedTelemetry {
    #[cfg(feature = "metrics")]
    counter: metrics::Counter,
}

impl ShedTelemetry {
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn feature(name: &str) -> Self {
        ShedTelemetry {
            #[cfg(feature = "metrics")]
            counter: imp::shed_counter("feature", name),
        }
    }

    /// One shed request.
    #[inline]
    pub(crate) fn increment(&self) {
        #[cfg(feature = "metrics")]
        self.counter.increment(1);
    }
}

#[cfg(feature = "metrics")]
mod imp {
    use metrics::{Counter, Gauge, Unit, counter, describe_counter, describe_gauge, gauge};

    use super::names;
    use super::striped::{self, StripedCounts};
    use crate::level::Level;
    use crate::outcome::Outcome;
    use crate::state::BreakerState;

    #[derive(Debug)]
    pub(super) struct Breaker {
        success: Counter,
        failure: Counter,
        timeout: Counter,
        ignored: Counter,
        rejected: Counter,
        pub(super) counts: StripedCounts,
        state: Gauge,
        /// `[from][to]`, every pair registered up front so that a transition
        /// neither looks a name up nor allocates.
        transitions: [[Counter; 5]; 5],
    }

    impl Breaker {
        pub(super) fn new(dependency: &str) -> Self {
            describe();
            let calls = |outcome: &'static str| counter!(names::CALLS_TOTAL, "dependency" => dependency.to_owned(), "outcome" => outcome);
            let state = gauge!(names::BREAKER_STATE, "dependency" => dependency.to_owned());
            state.set(0.0);
            let transitions = BreakerState::ALL.map(|from| {
                BreakerState::ALL.map(|to| {
                    if from == to {
                        Counter::noop()
                    } else {
                        counter!(
                            names::BREAKER_TRANSITIONS_TOTAL,
                            "dependency" => dependency.to_owned(),
                            "from" => from.as_str(),
                            "to" => to.as_str()
                        )
                    }
                })
            });
            Breaker {
                success: calls("success"),
                failure: calls("failure"),
                timeout: calls("timeout"),
                ignored: calls("ignored"),
                rejected: calls("rejected"),
                counts: StripedCounts::new(),
                state,
                transitions,
            }
        }

        #[inline]
        pub(super) fn call(&self, outcome: Outcome) {
            self.counts.bump(match outcome {
                Outcome::Success => striped::SUCCESS,
                Outcome::Failure => striped::FAILURE,
                Outcome::Timeout => striped::TIMEOUT,
                Outcome::Ignore => striped::IGNORED,
            });
        }

        pub(super) fn flush(&self) {
            for (counter, kind) in [
                (&self.success, striped::SUCCESS),
                (&self.failure, striped::FAILURE),
                (&self.timeout, striped::TIMEOUT),
                (&self.ignored, striped::IGNORED),
                (&self.rejected, striped::REJECTED),
            ] {
                counter.absolute(self.counts.total(kind));
            }
        }

        pub(super) fn transition(&self, from: BreakerState, to: BreakerState) {
            self.flush();
            self.transitions[from as usize][to as usize].increment(1);
            self.state.set(f64::from(to as u8));
        }
    }

    #[derive(Debug)]
    pub(super) struct Manager {
        score: Gauge,
        level: Gauge,
        features: Vec<Gauge>,
        /// Indexed by `Level::as_u8`.
        pub(super) level_shed: [Counter; 5],
    }

    /// `brownout_requests_shed_total{label=value}`.
    pub(super) fn shed_counter(label: &'static str, value: &str) -> Counter {
        describe();
        counter!(names::REQUESTS_SHED_TOTAL, label => value.to_owned())
    }

    impl Manager {
        pub(super) fn new<'a>(features: impl Iterator<Item = &'a str>) -> Self {
            describe();
            Manager {
                score: gauge!(names::HEALTH_SCORE),
                level: gauge!(names::LEVEL),
                features: features
                    .map(|name| gauge!(names::FEATURE_ENABLED, "feature" => name.to_owned()))
                    .collect(),
                level_shed: Level::ALL.map(|level| shed_counter("level", level.as_str())),
            }
        }

        pub(super) fn publish(
            &self,
            score: f64,
            level: Level,
            enabled: impl Iterator<Item = bool>,
        ) {
            self.score.set(score);
            self.level.set(f64::from(level.as_u8()));
            for (gauge, on) in self.features.iter().zip(enabled) {
                gauge.set(if on { 1.0 } else { 0.0 });
            }
        }
    }

    /// Descriptions and units, given to the recorder with every registration
    /// (recorders keep the first).
    fn describe() {
        describe_counter!(
            names::CALLS_TOTAL,
            Unit::Count,
            "Calls through a brownout circuit breaker, by dependency and outcome"
        );
        describe_gauge!(
            names::BREAKER_STATE,
            "Circuit breaker state: 0 closed, 1 open, 2 half-open, 3 forced open, 4 disabled"
        );
        describe_counter!(
            names::BREAKER_TRANSITIONS_TOTAL,
            Unit::Count,
            "Circuit breaker state changes, by dependency, from and to"
        );
        describe_gauge!(
            names::HEALTH_SCORE,
            "Weighted health score of all dependencies, 0 to 100"
        );
        describe_gauge!(
            names::LEVEL,
            "Effective degradation level: 0 EMERGENCY, 1 MINIMAL, 2 LIMITED, 3 DEGRADED, 4 OPTIMAL"
        );
        describe_gauge!(
            names::FEATURE_ENABLED,
            "Whether a feature gate is on (1) or off (0)"
        );
        describe_counter!(
            names::REQUESTS_SHED_TOTAL,
            Unit::Count,
            "Requests refused by a brownout gate, by feature (or by level for level gates)"
        );
    }
}
