//! The breaker's shared state and its state machine.
//!
//! Hot paths touch only the packed [`Word`] (and, when open, `open_until`):
//! a closed admission is one load, a success with no failures pending writes
//! nothing, a failure is one compare-and-swap, an open rejection is one load
//! plus a coarse clock read. Everything else (transitions, half-open slots,
//! sliding windows) runs under the `cold` mutex, and listeners are told after
//! it is released.

use std::sync::Weak;
use std::time::Duration;

use self::tuning::Tuning;
use self::word::Word;
use super::backoff::{Jitter, open_duration};
use super::trip::{Trip, TripCause};
use super::window::{Window, WindowCounts};
use crate::clock::{ClockSource, Nanos};
use crate::config::BreakerConfig;
use crate::name::DependencyName;
use crate::nanos::duration_to_u64;
use crate::state::BreakerState;
use crate::sync::{AtomicBool, AtomicU64, Mutex, Ordering};
use crate::telemetry::BreakerTelemetry;
use crate::transition::{Transition, TransitionListener};

mod admit;
mod record;
mod tuning;
mod word;

/// What an admitted call remembers: the state and generation it was admitted
/// in, and when it started (read only when the breaker times calls).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    epoch: u64,
    started: Nanos,
}

impl Ticket {
    /// The ticket of a permit whose outcome was reported: no admitted call
    /// has it, since an admission's epoch never carries failure bits.
    pub(crate) const SPENT: Ticket = Ticket {
        epoch: u64::MAX,
        started: Nanos::ZERO,
    };

    /// Whether this is [`Ticket::SPENT`].
    #[inline]
    pub(crate) const fn is_spent(self) -> bool {
        self.epoch == Self::SPENT.epoch
    }

    fn state(self) -> BreakerState {
        Word::from_raw(self.epoch).state()
    }
}

/// Half-open trial accounting for the current generation.
#[derive(Debug, Default)]
struct Trials {
    in_flight: u32,
    successes: u32,
    deadline: Nanos,
}

/// An admission when calls are not timed: `started` so late that no call
/// is ever judged slow or overdue from it, even if a reload starts timing
/// calls while it runs.
const UNTIMED: Nanos = Nanos::from_u64(u64::MAX);

/// State that only changes under the lock.
#[derive(Debug)]
struct Cold {
    /// The settings as last given (the lock-free paths read [`Tuning`]).
    config: BreakerConfig,
    window: Option<Window>,
    trials: Trials,
    reopens: u32,
    last_transition: Option<Transition>,
    /// What opened the breaker the last time it opened.
    last_trip: Option<Trip>,
    jitter: Jitter,
}

/// One breaker's state, shared by every clone of its [`Breaker`](super::Breaker).
pub(crate) struct Shared {
    word: AtomicU64,
    open_until: AtomicU64,
    /// Half-open trial slots taken (in flight plus succeeded), mirrored from
    /// `Cold::trials` under the lock, so that a full half-open breaker
    /// rejects without taking it.
    trials_taken: AtomicU64,
    /// The current half-open generation's trial deadline (nanoseconds).
    trials_deadline: AtomicU64,
    tuning: Tuning,
    pub(crate) name: DependencyName,
    pub(crate) clock: ClockSource,
    cold: Mutex<Cold>,
    listener: Option<Weak<dyn TransitionListener>>,
    /// Set once the manager has dropped this dependency: its transitions
    /// are logged but no longer reach the manager.
    detached: AtomicBool,
    telemetry: BreakerTelemetry,
}

impl Shared {
    pub(crate) fn new(
        name: DependencyName,
        config: BreakerConfig,
        clock: ClockSource,
        listener: Option<Weak<dyn TransitionListener>>,
    ) -> Shared {
        let seed = clock.now().as_u64()
            ^ name
                .bytes()
                .fold(0u64, |h, b| h.rotate_left(5) ^ u64::from(b));
        Shared {
            word: AtomicU64::new(Word::INITIAL.raw()),
            open_until: AtomicU64::new(0),
            trials_taken: AtomicU64::new(0),
            trials_deadline: AtomicU64::new(0),
            tuning: Tuning::new(&config),
            telemetry: BreakerTelemetry::new(&name),
            name,
            cold: Mutex::new(Cold {
                window: window_for(&config),
                config,
                trials: Trials::default(),
                reopens: 0,
                last_transition: None,
                last_trip: None,
                jitter: Jitter::new(seed),
            }),
            clock,
            listener,
            detached: AtomicBool::new(false),
        }
    }

    /// The settings as last given.
    pub(crate) fn config(&self) -> BreakerConfig {
        self.cold.lock().config.clone()
    }

    /// The call timeout, if any (one load).
    #[inline]
    pub(crate) fn call_timeout(&self) -> Option<Duration> {
        match self.tuning.timeout_nanos() {
            0 => None,
            nanos => Some(Duration::from_nanos(nanos)),
        }
    }

    /// Applies new (validated) settings from the breaker's next decision,
    /// keeping its state, generation and open period. A sliding window of a
    /// different shape starts empty; a half-open breaker whose successful
    /// trials already meet a lowered `half_open_max_calls` closes now.
    pub(crate) fn retune(&self, config: BreakerConfig) {
        let announce = {
            let mut cold = self.cold.lock();
            if window_shape(&config) != window_shape(&cold.config) {
                cold.window = window_for(&config);
            }
            self.tuning.store(&config);
            cold.config = config;
            let word = self.word();
            let trials = &cold.trials;
            (word.state() == BreakerState::HalfOpen
                && trials.in_flight == 0
                && trials.successes >= self.tuning.half_open_max_calls())
            .then(|| {
                let now = self.clock.now();
                self.transition(&mut cold, word, BreakerState::Closed, now)
            })
        };
        self.announce(announce);
    }

    /// Stops telling the manager about transitions (it no longer counts this dependency).
    pub(crate) fn detach(&self) {
        self.detached.store(true, Ordering::Release);
    }

    #[inline]
    fn word(&self) -> Word {
        Word::from_raw(self.word.load(Ordering::Acquire))
    }

    /// The current state (one load).
    #[inline]
    pub(crate) fn state(&self) -> BreakerState {
        self.word().state()
    }

    /// The time a call started, for slow-call and timeout judgement: the
    /// precise clock when slow calls are detected, else the coarse one.
    #[inline]
    fn timing_now(&self) -> Nanos {
        if self.tuning.slow_nanos() != 0 {
            self.clock.now()
        } else {
            self.clock.now_coarse()
        }
    }

    /// Whether the call behind `ticket` has outlived the call timeout: one
    /// field test when there is none.
    #[inline(always)]
    pub(crate) fn overran(&self, ticket: Ticket) -> bool {
        self.tuning.timeout_nanos() != 0 && self.overran_timed(ticket)
    }

    #[inline(never)]
    fn overran_timed(&self, ticket: Ticket) -> bool {
        let limit = self.tuning.timeout_nanos();
        limit != 0 && duration_to_u64(self.timing_now().saturating_since(ticket.started)) > limit
    }

    /// Half-open trials past their deadline re-open the breaker even when no
    /// call asks for permission (driven by probes and snapshots).
    pub(crate) fn expire_trials(&self) {
        if self.state() != BreakerState::HalfOpen {
            return;
        }
        let announce = {
            let mut cold = self.cold.lock();
            let word = self.word();
            let now = self.clock.now();
            (word.state() == BreakerState::HalfOpen && now >= cold.trials.deadline)
                .then(|| self.reopen(&mut cold, word, now, TripCause::TrialsTimedOut))
        };
        self.announce(announce);
    }

    /// Opens a closed breaker on its peers' word, as if it had tripped
    /// itself; returns whether it opened.
    pub(crate) fn trip_by_peers(&self) -> bool {
        let announce = {
            let mut cold = self.cold.lock();
            let word = self.word();
            (word.state() == BreakerState::Closed).then(|| {
                let now = self.clock.now();
                let trip = self.trip(&cold, word, now, TripCause::Peers);
                self.open(&mut cold, word, now, trip)
            })
        };
        let opened = announce.is_some();
        self.announce(announce);
        opened
    }

    /// Moves to `to` by hand (force open, disable, reset). Always starts a new
    /// generation, so a reset clears counters even when already closed.
    pub(crate) fn force(&self, to: BreakerState) {
        let announce = {
            let mut cold = self.cold.lock();
            let word = self.word();
            let now = self.clock.now();
            match to {
                BreakerState::Closed => cold.reopens = 0,
                BreakerState::ForcedOpen => {
                    cold.last_trip = Some(self.trip(&cold, word, now, TripCause::Forced))
                }
                _ => {}
            }
            Some(self.transition(&mut cold, word, to, now))
        };
        self.announce(announce);
    }

    /// What the breaker saw when `cause` opened it: the counts are read
    /// before the transition clears them.
    fn trip(&self, cold: &Cold, word: Word, now: Nanos, cause: TripCause) -> Trip {
        Trip {
            cause,
            consecutive_failures: word.failures(),
            window: cold.window.as_ref().map(|w| w.counts(now)),
            at: now,
        }
    }

    /// Opens the breaker for `cause`, remembering the counts that tripped it.
    fn open(&self, cold: &mut Cold, word: Word, now: Nanos, trip: Trip) -> Transition {
        cold.last_trip = Some(trip);
        self.transition(cold, word, BreakerState::Open, now)
    }

    /// Re-opens a half-open breaker, backing off the open time.
    fn reopen(&self, cold: &mut Cold, word: Word, now: Nanos, cause: TripCause) -> Transition {
        cold.reopens = cold.reopens.saturating_add(1);
        let trip = self.trip(cold, word, now, cause);
        self.open(cold, word, now, trip)
    }

    /// Publishes a new generation in `to`. Caller holds the lock, so the
    /// generation cannot move under it; only failure counts can race.
    fn transition(&self, cold: &mut Cold, from: Word, to: BreakerState, now: Nanos) -> Transition {
        let next = from.next(to);
        // Trial accounting belongs to one half-open generation.
        cold.trials = Trials::default();
        match to {
            BreakerState::Open => {
                let unit = cold.jitter.next_unit();
                let open_for = open_duration(&cold.config, cold.reopens, unit);
                let until = now.saturating_add(open_for).as_u64();
                self.open_until.store(until, Ordering::Release);
            }
            BreakerState::HalfOpen => {
                cold.trials.deadline = now.saturating_add(cold.config.half_open_timeout());
                self.trials_deadline
                    .store(cold.trials.deadline.as_u64(), Ordering::Release);
            }
            BreakerState::Closed => cold.reopens = 0,
            BreakerState::ForcedOpen | BreakerState::Disabled => {}
        }
        if let Some(window) = cold.window.as_mut() {
            window.clear();
        }
        // Published before the new word, so a reader that sees the word sees these.
        self.publish_trials(&cold.trials);
        let mut current = from;
        while let Err(actual) = self.cas(current, next) {
            current = actual;
        }
        let transition = Transition {
            from: from.state(),
            to,
            at: now,
        };
        cold.last_transition = Some(transition);
        transition
    }

    /// Mirrors the trial slots taken, for lock-free full-half-open rejections.
    /// Called under the lock after every change of `trials`.
    fn publish_trials(&self, trials: &Trials) {
        let taken = u64::from(trials.in_flight) + u64::from(trials.successes);
        self.trials_taken.store(taken, Ordering::Release);
    }

    #[inline]
    fn cas(&self, current: Word, new: Word) -> Result<(), Word> {
        self.word
            .compare_exchange_weak(
                current.raw(),
                new.raw(),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .map(|_| ())
            .map_err(Word::from_raw)
    }

    /// Tells the telemetry and the listener (or the log) about a transition
    /// made under the lock, once the lock is released. An operation makes
    /// at most one transition.
    fn announce(&self, transition: Option<Transition>) {
        let Some(transition) = transition.filter(|t| t.from != t.to) else {
            return;
        };
        self.telemetry.transition(transition.from, transition.to);
        let listener = self
            .listener
            .as_ref()
            .filter(|_| !self.detached.load(Ordering::Acquire))
            .and_then(Weak::upgrade);
        match listener {
            Some(listener) => listener.on_transition(&self.name, transition),
            None => crate::events::breaker_transition(&self.name, transition, None),
        }
    }

    /// When the current open period ends, while open.
    pub(crate) fn open_until(&self) -> Option<Nanos> {
        (self.state() == BreakerState::Open)
            .then(|| Nanos::from_u64(self.open_until.load(Ordering::Acquire)))
    }

    /// Time until a trial is allowed (see [`Breaker::retry_after`](super::Breaker::retry_after)).
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self.state() {
            BreakerState::Open => {
                let until = Nanos::from_u64(self.open_until.load(Ordering::Acquire));
                Some(until.saturating_since(self.clock.now()))
            }
            BreakerState::ForcedOpen => Some(Duration::from_nanos(self.tuning.recovery_nanos())),
            _ => None,
        }
    }

    /// Hands per-call counts to the metrics recorder (feature `metrics`).
    pub(crate) fn flush_metrics(&self) {
        self.telemetry.flush();
    }

    /// Counts and timings for snapshots.
    pub(crate) fn observe(&self) -> Observed {
        let cold = self.cold.lock();
        let now = self.clock.now();
        let word = self.word();
        let retry_after = match word.state() {
            BreakerState::Open => {
                Some(Nanos::from_u64(self.open_until.load(Ordering::Acquire)).saturating_since(now))
            }
            BreakerState::ForcedOpen => Some(cold.config.recovery_timeout),
            _ => None,
        };
        Observed {
            state: word.state(),
            consecutive_failures: word.failures(),
            window: cold.window.as_ref().map(|w| w.counts(now)),
            trials_in_flight: cold.trials.in_flight,
            retry_after,
            last_transition: cold.last_transition,
            last_trip: cold.last_trip,
            now,
        }
    }
}

/// What decides a window's layout: whether there is one, its span and its size.
fn window_shape(config: &BreakerConfig) -> Option<(Option<Duration>, u32)> {
    config
        .uses_window()
        .then_some((config.window_duration, config.window))
}

/// The sliding window `config` needs, if any, empty.
fn window_for(config: &BreakerConfig) -> Option<Window> {
    config.uses_window().then(|| match config.window_duration {
        Some(span) => Window::time(duration_to_u64(span)),
        None => Window::count(config.window),
    })
}

/// A consistent read of a breaker's state, counts and timings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Observed {
    pub(crate) state: BreakerState,
    pub(crate) consecutive_failures: u32,
    pub(crate) window: Option<WindowCounts>,
    pub(crate) trials_in_flight: u32,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) last_transition: Option<Transition>,
    pub(crate) last_trip: Option<Trip>,
    pub(crate) now: Nanos,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Breaker")
            .field("name", &self.name)
            .field("word", &self.word())
            .finish_non_exhaustive()
    }
}
