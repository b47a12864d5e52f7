//! The manager's shared state and the recomputation run on every transition.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::changes::{ChangeCause, Changes, LevelChange};
use super::control::{Controller, Override};
use super::features::FeatureSlot;
use crate::breaker::engine::{Shared, TransitionListener};
use crate::breaker::{Breaker, BreakerState, Transition};
use crate::clock::{ClockSource, Nanos};
use crate::config::LevelsConfig;
use crate::level::Level;
use crate::sync::{AtomicU8, AtomicU64, Mutex, Ordering};
use crate::telemetry::ManagerTelemetry;

/// One weighted dependency.
#[derive(Debug)]
pub(crate) struct Dependency {
    pub(crate) breaker: Breaker,
    pub(crate) weight: f64,
    pub(crate) max_level_when_open: Option<Level>,
    /// The health check run as this dependency's half-open trial.
    #[cfg(feature = "tokio")]
    pub(crate) probe: Option<super::probe::Probe>,
}

/// Everything a manager's clones share.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) dependencies: Vec<Dependency>,
    pub(crate) features: Vec<Arc<FeatureSlot>>,
    pub(crate) index: HashMap<Box<str>, usize, foldhash::fast::FixedState>,
    pub(crate) levels: LevelsConfig,
    pub(crate) clock: ClockSource,
    /// `f64` bits of the health score.
    score: AtomicU64,
    level: AtomicU8,
    computed: AtomicU8,
    /// When a hold or an override next expires; `u64::MAX` for never.
    next_due: AtomicU64,
    control: Mutex<Controller>,
    warned: std::sync::Mutex<HashSet<String>>,
    pub(crate) changes: Changes,
    telemetry: ManagerTelemetry,
    /// Wakes the background task when something it schedules around changed.
    #[cfg(feature = "tokio")]
    pub(crate) wake: tokio::sync::Notify,
}

impl Core {
    pub(crate) fn new(
        dependencies: Vec<Dependency>,
        features: Vec<Arc<FeatureSlot>>,
        levels: LevelsConfig,
        clock: ClockSource,
    ) -> Core {
        let index = features
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();
        let telemetry = ManagerTelemetry::new(features.iter().map(|f| &*f.name));
        let initial = LevelChange {
            from: Level::Optimal,
            to: Level::Optimal,
            score: 100.0,
            cause: ChangeCause::Initial,
        };
        Core {
            dependencies,
            features,
            index,
            control: Mutex::new(Controller::new(100.0, Level::Optimal, &levels)),
            levels,
            clock,
            score: AtomicU64::new(100f64.to_bits()),
            level: AtomicU8::new(Level::Optimal.as_u8()),
            computed: AtomicU8::new(Level::Optimal.as_u8()),
            next_due: AtomicU64::new(u64::MAX),
            warned: std::sync::Mutex::default(),
            changes: Changes::new(initial),
            telemetry,
            #[cfg(feature = "tokio")]
            wake: tokio::sync::Notify::new(),
        }
    }

    pub(crate) fn score(&self) -> f64 {
        f64::from_bits(self.score.load(Ordering::Acquire))
    }

    pub(crate) fn level(&self) -> Level {
        Level::from_u8(self.level.load(Ordering::Acquire)).unwrap_or(Level::Emergency)
    }

    pub(crate) fn computed_level(&self) -> Level {
        Level::from_u8(self.computed.load(Ordering::Acquire)).unwrap_or(Level::Emergency)
    }

    /// The override in force, with its expiry.
    pub(crate) fn overridden(&self) -> Option<Override> {
        self.control.lock().overridden()
    }

    /// Recomputes if a hold or an override is due: one load when nothing is pending.
    #[inline]
    pub(crate) fn refresh_if_due(&self) {
        let due = self.next_due.load(Ordering::Acquire);
        if due != u64::MAX && self.clock.now_coarse().as_u64() >= due {
            self.recompute(None, ChangeCause::Deadline);
        }
    }

    /// Score and cap from the breakers' live states.
    fn score_and_cap(&self) -> (f64, Level) {
        let mut total = 0.0;
        let mut available = 0.0;
        let mut cap = Level::Optimal;
        for dep in &self.dependencies {
            let state = dep.breaker.state();
            let availability = match state {
                BreakerState::Closed | BreakerState::Disabled => 1.0,
                BreakerState::HalfOpen => self.levels.half_open_credit,
                BreakerState::Open | BreakerState::ForcedOpen => 0.0,
            };
            total += dep.weight;
            available += dep.weight * availability;
            if state.is_open()
                && let Some(max) = dep.max_level_when_open
            {
                cap = cap.min(max);
            }
        }
        let score = if total > 0.0 {
            (100.0 * available / total).clamp(0.0, 100.0)
        } else {
            100.0
        };
        (score, cap)
    }

    /// When a hold or an override next expires, if ever.
    #[cfg(feature = "tokio")]
    pub(crate) fn next_due(&self) -> Option<Nanos> {
        let due = self.next_due.load(Ordering::Acquire);
        (due != u64::MAX).then(|| Nanos::from_u64(due))
    }

    /// Recomputes and publishes (see [`Core::publish`]), then tells listeners.
    pub(crate) fn recompute(
        &self,
        change: Option<Option<Override>>,
        cause: ChangeCause,
    ) -> (f64, Level) {
        let published = self.publish(change, cause);
        self.changes.deliver();
        published
    }

    /// Recomputes score, level and gates from live breaker states and
    /// publishes them; `change` sets or clears the override first. A level
    /// change is queued for listeners, not delivered. Returns the published
    /// score and effective level.
    fn publish(&self, change: Option<Option<Override>>, cause: ChangeCause) -> (f64, Level) {
        let published = {
            let mut control = self.control.lock();
            let before = control.effective();
            if let Some(o) = change {
                control.set_override(o);
            }
            let now = self.clock.now();
            let (score, cap) = self.score_and_cap();
            let due = control.update(score, cap, &self.levels, now);
            let level = control.effective();
            self.score.store(score.to_bits(), Ordering::Release);
            self.computed
                .store(control.computed().as_u8(), Ordering::Release);
            self.level.store(level.as_u8(), Ordering::Release);
            for feature in &self.features {
                let on = level >= feature.min_level
                    && feature
                        .requires
                        .iter()
                        .all(|&i| !self.dependencies[i].breaker.state().is_open());
                feature.enabled.store(on, Ordering::Release);
            }
            self.next_due
                .store(due.map_or(u64::MAX, Nanos::as_u64), Ordering::Release);
            self.telemetry.publish(
                score,
                level,
                self.features
                    .iter()
                    .map(|f| f.enabled.load(Ordering::Relaxed)),
            );
            if before != level {
                // Queued under the control lock, so changes queue in order.
                self.changes.push(LevelChange {
                    from: before,
                    to: level,
                    score,
                    cause,
                });
            }
            (score, level)
        };
        #[cfg(feature = "tokio")]
        self.wake.notify_one();
        published
    }

    /// Warns once per unknown name (the set is bounded by what callers ask for).
    pub(crate) fn warn_unknown(&self, name: &str) {
        let mut warned = self
            .warned
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if warned.len() < 1024 && warned.insert(name.to_owned()) {
            drop(warned);
            crate::events::unknown_feature(name);
        }
    }
}

impl TransitionListener for Core {
    fn on_transition(&self, breaker: &Shared, transition: Transition) {
        let cause = ChangeCause::Breaker {
            dependency: breaker.name,
            from: transition.from,
            to: transition.to,
        };
        let after = self.publish(None, cause);
        crate::events::breaker_transition(breaker.name, transition, Some(after));
        self.changes.deliver();
    }
}
