//! The manager's shared state and the recomputation run on every transition.

use std::collections::HashSet;
use std::hash::BuildHasher;
use std::sync::{Arc, Weak};

use super::changes::Changes;
use super::control::{Controller, Override, OverrideChange};
use super::features::FeatureSlot;
use super::topology::{Sources, Topology};
use crate::change::{ChangeCause, LevelChange};
use crate::clock::{ClockSource, Nanos};
use crate::config::Config;
use crate::health::Health;
use crate::level::Level;
use crate::name::DependencyName;
use crate::sync::{AtomicU8, AtomicU64, Mutex, Ordering, Swap};
use crate::transition::Transition;
use crate::transition::TransitionListener;

/// The most unknown feature names remembered for warn-once (as 8-byte hashes,
/// so the memory is bounded however long the names are).
const WARNED_CAPACITY: usize = 1024;

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
    /// Replaced whole by a reload, under the control lock.
    topology: Swap<Topology>,
    /// The id of the topology in force, stored after it.
    current: AtomicU64,
    /// Slots of features reloads removed, while a gate still holds them.
    retired: Mutex<Vec<Weak<FeatureSlot>>>,
    /// Serialises reloads.
    reloading: Mutex<()>,
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
    /// Wakes the background task when something it schedules around changed.
    #[cfg(feature = "tokio")]
    pub(crate) wake: tokio::sync::Notify,
}

impl Core {
    pub(crate) fn new(topology: Topology, clock: ClockSource) -> Core {
        let initial = LevelChange {
            from: Level::Optimal,
            to: Level::Optimal,
            score: 100.0,
            cause: ChangeCause::Initial,
            at: clock.now(),
        };
        Core {
            control: Mutex::new(Control {
                controller: Controller::new(100.0, Level::Optimal, &topology.config.levels),
                last_change: initial.clone(),
            }),
            current: AtomicU64::new(topology.id),
            topology: Swap::new(topology),
            retired: Mutex::default(),
            reloading: Mutex::new(()),
            clock,
            score: AtomicU64::new(100f64.to_bits()),
            level: AtomicU8::new(Level::Optimal.as_u8()),
            computed: AtomicU8::new(Level::Optimal.as_u8()),
            next_due: AtomicU64::new(u64::MAX),
            warned: Mutex::default(),
            changes: Changes::new(initial),
            #[cfg(feature = "tokio")]
            wake: tokio::sync::Notify::new(),
        }
    }

    /// The dependencies, features and thresholds in force, for a short read.
    #[inline]
    pub(crate) fn topology(&self) -> impl std::ops::Deref<Target = Arc<Topology>> + '_ {
        self.topology.load()
    }

    /// Runs `read` on the topology in force, from this thread's cached
    /// copy when it is still current: one load and a thread-local check,
    /// cheaper than a shared read of the swap (the by-name lookups use it).
    /// The cache holds one topology per thread, released at the thread's
    /// next by-name lookup after a reload.
    #[cfg(not(loom))]
    #[inline]
    pub(crate) fn with_topology<R>(&self, read: impl FnOnce(&Topology) -> R) -> R {
        thread_local! {
            static CACHED: std::cell::RefCell<Option<Arc<Topology>>> =
                const { std::cell::RefCell::new(None) };
        }
        let current = self.current.load(Ordering::Acquire);
        CACHED.with(|cached| {
            if let Ok(cached) = cached.try_borrow()
                && let Some(topology) = cached.as_ref()
                && topology.id == current
            {
                return read(topology);
            }
            let topology = self.topology.load_full();
            let answer = read(&topology);
            if let Ok(mut slot) = cached.try_borrow_mut() {
                *slot = Some(topology);
            }
            answer
        })
    }

    /// Runs `read` on the topology in force.
    #[cfg(loom)]
    pub(crate) fn with_topology<R>(&self, read: impl FnOnce(&Topology) -> R) -> R {
        read(&self.topology.load())
    }

    /// The dependencies, features and thresholds in force, to keep across awaits.
    #[cfg(feature = "tokio")]
    pub(crate) fn topology_full(&self) -> Arc<Topology> {
        self.topology.load_full()
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

    /// One request shed by a level gate (a no-op without the `metrics` feature).
    #[inline]
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn record_level_shed(&self, min_level: Level) {
        #[cfg(feature = "metrics")]
        self.with_topology(|topology| topology.telemetry.level_shed(min_level));
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
    fn score_and_cap(topology: &Topology) -> (f64, Level) {
        let mut total = 0.0_f64;
        let mut available = 0.0;
        let mut cap = Level::Optimal;
        for dep in &topology.dependencies {
            let state = dep.breaker.state();
            let availability = match state.health() {
                Health::Pass => 1.0,
                Health::Warn => topology.config.levels.half_open_credit,
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
    /// publishes them (see [`Core::publish_locked`]).
    fn publish(
        &self,
        change: OverrideChange,
        cause: ChangeCause,
    ) -> ((f64, Level), Option<Announced>) {
        let published = {
            let mut control = self.control.lock();
            self.publish_locked(&mut control, change, cause)
        };
        #[cfg(feature = "tokio")]
        self.wake.notify_one();
        published
    }

    /// Recomputes score, level and gates from live breaker states and
    /// publishes them; `change` sets or clears the override first. A level
    /// change is queued for listeners (under the lock, so changes queue in
    /// order) and returned, to be announced once the lock is released.
    /// Returns the published score and effective level too.
    fn publish_locked(
        &self,
        control: &mut Control,
        change: OverrideChange,
        cause: ChangeCause,
    ) -> ((f64, Level), Option<Announced>) {
        let topology = self.topology.load();
        let before = control.controller.effective();
        match change {
            OverrideChange::Keep => {}
            OverrideChange::Set(o) => control.controller.set_override(Some(o)),
            OverrideChange::Clear => control.controller.set_override(None),
            OverrideChange::ClearFrom(source) => {
                if control
                    .controller
                    .overridden()
                    .is_some_and(|o| o.source == Some(source))
                {
                    control.controller.set_override(None);
                }
            }
        }
        let now = self.clock.now();
        let (score, cap) = Self::score_and_cap(&topology);
        let due = control
            .controller
            .update(score, cap, &topology.config.levels, now);
        let level = control.controller.effective();
        self.score.store(score.to_bits(), Ordering::Release);
        self.computed
            .store(control.controller.computed().as_u8(), Ordering::Release);
        self.level.store(level.as_u8(), Ordering::Release);
        for feature in &topology.features {
            feature.publish(level);
        }
        self.next_due
            .store(due.map_or(u64::MAX, Nanos::as_u64), Ordering::Release);
        topology
            .telemetry
            .publish(score, level, topology.features.iter().map(|f| f.is_on()));
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
    }

    /// Applies a validated configuration: see
    /// [`DegradationManager::reconfigure`](super::DegradationManager::reconfigure).
    pub(crate) fn reconfigure(self: &Arc<Self>, config: Config) {
        let _reloading = self.reloading.lock();
        let previous = self.topology.load_full();
        let retired = self.retired.lock().clone();
        let weak: Weak<Core> = Arc::downgrade(self);
        let rebuilt = Topology::build(
            config,
            Sources {
                clock: &self.clock,
                listener: weak,
                previous: Some(&previous),
                retired: &retired,
                #[cfg(feature = "tokio")]
                probes: Vec::new(),
            },
        );
        // Outside the control lock: a retune may close a half-open breaker,
        // and its transition recomputes (with the topology still in force).
        for (breaker, settings) in rebuilt.retune {
            breaker.retune(settings);
        }
        let (_, announced) = {
            let mut control = self.control.lock();
            for (slot, definition) in rebuilt.redefine {
                slot.define(definition);
            }
            let id = rebuilt.topology.id;
            self.topology.store(Arc::new(rebuilt.topology));
            self.current.store(id, Ordering::Release);
            for slot in &rebuilt.removed_features {
                slot.retire();
            }
            // The removed features' gauges read "off" from now on.
            previous.telemetry.publish(
                self.score(),
                self.level(),
                previous.features.iter().map(|f| f.is_on()),
            );
            self.publish_locked(
                &mut control,
                OverrideChange::Keep,
                ChangeCause::Reconfigured,
            )
        };
        for breaker in &rebuilt.removed_breakers {
            breaker.detach();
        }
        {
            let mut retired_slots = self.retired.lock();
            retired_slots.retain(|slot| slot.strong_count() > 0);
            retired_slots.extend(rebuilt.removed_features.iter().map(Arc::downgrade));
        }
        drop(rebuilt.removed_features);
        #[cfg(feature = "tokio")]
        self.wake.notify_one();
        self.announce(announced);
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
        if self.topology.load().dependency(dependency).is_none() {
            // A dependency a reload just removed: it no longer counts.
            crate::events::breaker_transition(dependency, transition, None);
            return;
        }
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
