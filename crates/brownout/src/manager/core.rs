//! The manager's shared state and the recomputation run on every transition.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::Arc;

use super::changes::Changes;
use super::control::{Controller, Override, OverrideChange};
use super::features::FeatureSlot;
use crate::breaker::Breaker;
use crate::change::{ChangeCause, LevelChange};
use crate::clock::{ClockSource, Nanos};
use crate::config::LevelsConfig;
use crate::health::Health;
use crate::level::Level;
use crate::name::DependencyName;
use crate::sync::{AtomicU8, AtomicU64, Mutex, Ordering};
use crate::telemetry::ManagerTelemetry;
use crate::transition::Transition;
use crate::transition::TransitionListener;

/// The most unknown feature names remembered for warn-once (as 8-byte hashes,
/// so the memory is bounded however long the names are).
const WARNED_CAPACITY: usize = 1024;

/// One weighted dependency.
#[derive(Debug)]
pub(crate) struct Dependency {
    pub(crate) breaker: Breaker,
    /// The configured weight, as reported.
    pub(crate) weight: f64,
    /// `weight` scaled by the power of two that brings the largest weight
    /// to at most 1: the score is summed over shares, so no valid weights can
    /// overflow it, and scaling by a power of two is exact.
    share: f64,
    pub(crate) max_level_when_open: Option<Level>,
    /// The health check run as this dependency's half-open trial.
    #[cfg(feature = "tokio")]
    pub(crate) probe: Option<super::probe::Probe>,
}

impl Dependency {
    pub(crate) fn new(breaker: Breaker, weight: f64, max_level_when_open: Option<Level>) -> Self {
        Dependency {
            breaker,
            weight,
            share: 1.0,
            max_level_when_open,
            #[cfg(feature = "tokio")]
            probe: None,
        }
    }
}

/// A level change to announce, with its place in the listeners' queue.
type Announced = (LevelChange, Option<super::changes::Ticket>);

/// The level-change record, kept under the control lock.
#[derive(Debug)]
struct Control {
    controller: Controller,
    /// The latest change of the effective level (the initial state at first).
    last_change: LevelChange,
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
    control: Mutex<Control>,
    warned: Mutex<HashSet<u64>>,
    pub(crate) changes: Arc<Changes>,
    telemetry: ManagerTelemetry,
    /// Wakes the background task when something it schedules around changed.
    #[cfg(feature = "tokio")]
    pub(crate) wake: tokio::sync::Notify,
}

impl Core {
    pub(crate) fn new(
        mut dependencies: Vec<Dependency>,
        features: Vec<Arc<FeatureSlot>>,
        levels: LevelsConfig,
        clock: ClockSource,
    ) -> Core {
        let heaviest = dependencies.iter().map(|d| d.weight).fold(0.0, f64::max);
        let scale = if heaviest > 1.0 {
            // heaviest <= f64::MAX < 2^1024: the exponent fits in an i32.
            0.5_f64.powi(heaviest.log2().ceil() as i32)
        } else {
            1.0
        };
        for dependency in &mut dependencies {
            dependency.share = dependency.weight * scale;
        }
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
            at: clock.now(),
        };
        Core {
            dependencies,
            features,
            index,
            control: Mutex::new(Control {
                controller: Controller::new(100.0, Level::Optimal, &levels),
                last_change: initial.clone(),
            }),
            levels,
            clock,
            score: AtomicU64::new(100f64.to_bits()),
            level: AtomicU8::new(Level::Optimal.as_u8()),
            computed: AtomicU8::new(Level::Optimal.as_u8()),
            next_due: AtomicU64::new(u64::MAX),
            warned: Mutex::default(),
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
        self.control.lock().controller.overridden()
    }

    /// The latest change of the effective level.
    pub(crate) fn last_change(&self) -> LevelChange {
        self.control.lock().last_change.clone()
    }

    /// Runs `read` while no recomputation can publish, with the override in
    /// force and the latest change.
    pub(crate) fn read_published<R>(
        &self,
        read: impl FnOnce(Option<Override>, &LevelChange) -> R,
    ) -> R {
        let control = self.control.lock();
        read(control.controller.overridden(), &control.last_change)
    }

    /// One request shed by a level gate.
    #[inline]
    pub(crate) fn record_level_shed(&self, min_level: Level) {
        self.telemetry.level_shed(min_level);
    }

    /// Recomputes if a hold or an override is due: one load when nothing is pending.
    #[inline]
    pub(crate) fn refresh_if_due(&self) {
        let due = self.next_due.load(Ordering::Acquire);
        if due != u64::MAX && self.clock.now_coarse().as_u64() >= due {
            self.recompute(OverrideChange::Keep, ChangeCause::Deadline);
        }
    }

    /// Score and cap from the breakers' live states.
    fn score_and_cap(&self) -> (f64, Level) {
        let mut total = 0.0;
        let mut available = 0.0;
        let mut cap = Level::Optimal;
        for dep in &self.dependencies {
            let state = dep.breaker.state();
            let availability = match state.health() {
                Health::Pass => 1.0,
                Health::Warn => self.levels.half_open_credit,
                Health::Fail => 0.0,
            };
            total += dep.share;
            available += dep.share * availability;
            if state.is_open()
                && let Some(max) = dep.max_level_when_open
            {
                cap = cap.min(max);
            }
        }
        let score = if total > 0.0 {
            (100.0 * (available / total)).clamp(0.0, 100.0)
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

    /// Recomputes and publishes (see [`Core::publish`]), then announces a
    /// level change.
    pub(crate) fn recompute(&self, change: OverrideChange, cause: ChangeCause) {
        let (_, announced) = self.publish(change, cause);
        self.announce(announced);
    }

    /// A level change made by this thread, after every lock is released: the
    /// tracing event, then the listeners if this thread may deliver it.
    fn announce(&self, announced: Option<Announced>) {
        if let Some((change, ticket)) = announced {
            crate::events::level_change(&change);
            if let Some(ticket) = ticket {
                self.changes.deliver(ticket);
            }
        }
    }

    /// Recomputes score, level and gates from live breaker states and
    /// publishes them; `change` sets or clears the override first. A level
    /// change is queued for listeners (under the lock, so changes queue in
    /// order) and returned, to be announced once the lock is released.
    /// Returns the published score and effective level too.
    fn publish(
        &self,
        change: OverrideChange,
        cause: ChangeCause,
    ) -> ((f64, Level), Option<Announced>) {
        let (published, announced) = {
            let mut control = self.control.lock();
            let before = control.controller.effective();
            match change {
                OverrideChange::Keep => {}
                OverrideChange::Set(o) => control.controller.set_override(Some(o)),
                OverrideChange::Clear => control.controller.set_override(None),
            }
            let now = self.clock.now();
            let (score, cap) = self.score_and_cap();
            let due = control.controller.update(score, cap, &self.levels, now);
            let level = control.controller.effective();
            self.score.store(score.to_bits(), Ordering::Release);
            self.computed
                .store(control.controller.computed().as_u8(), Ordering::Release);
            self.level.store(level.as_u8(), Ordering::Release);
            for feature in &self.features {
                feature.publish(level);
            }
            self.next_due
                .store(due.map_or(u64::MAX, Nanos::as_u64), Ordering::Release);
            self.telemetry
                .publish(score, level, self.features.iter().map(|f| f.is_on()));
            let announced = (before != level).then(|| {
                let change = LevelChange {
                    from: before,
                    to: level,
                    score,
                    cause,
                    at: now,
                };
                // Queued under the control lock, so changes queue in order.
                let ticket = self.changes.push(&change);
                control.last_change = change.clone();
                (change, ticket)
            });
            ((score, level), announced)
        };
        #[cfg(feature = "tokio")]
        self.wake.notify_one();
        (published, announced)
    }

    /// Warns once per unknown name. The names are remembered as hashes, at
    /// most [`WARNED_CAPACITY`] of them: a flood of distinct names costs
    /// bounded memory (later ones are answered `false` without a warning).
    pub(crate) fn warn_unknown(&self, name: &str) {
        let hash = foldhash::fast::FixedState::with_seed(0x6272_6f77_6e6f_7574).hash_one(name);
        let fresh = {
            let mut warned = self.warned.lock();
            warned.len() < WARNED_CAPACITY && warned.insert(hash)
        };
        if fresh {
            crate::events::unknown_feature(name);
        }
    }
}

impl TransitionListener for Core {
    fn on_transition(&self, dependency: &DependencyName, transition: Transition) {
        let cause = ChangeCause::Breaker {
            dependency: dependency.clone(),
            from: transition.from,
            to: transition.to,
        };
        let (after, announced) = self.publish(OverrideChange::Keep, cause);
        crate::events::breaker_transition(dependency, transition, Some(after));
        self.announce(announced);
    }
}
