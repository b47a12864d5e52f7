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

use super::Transition;
use super::backoff::{Jitter, open_duration};
use super::state::{BreakerState, Word};
use super::window::{Window, WindowCounts};
use crate::clock::{ClockSource, Nanos};
use crate::config::{BreakerConfig, Policy};
use crate::nanos::duration_to_u64;
use crate::sync::{AtomicU64, Mutex, Ordering};
use crate::telemetry::BreakerTelemetry;

mod admit;
mod record;

/// Told about every transition, after the breaker's lock is released; the
/// listener announces it (tracing) once it has folded it in.
pub(crate) trait TransitionListener: Send + Sync {
    fn on_transition(&self, breaker: &Shared, transition: Transition);
}

/// What an admitted call remembers: the state and generation it was admitted
/// in, and when it started (only read when slow calls are detected).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    epoch: u64,
    started: Nanos,
}

impl Ticket {
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

/// State that only changes under the lock.
#[derive(Debug)]
struct Cold {
    window: Option<Window>,
    trials: Trials,
    reopens: u32,
    last_transition: Option<Transition>,
    jitter: Jitter,
}

/// Transitions made under the lock, announced after it (at most two per operation).
#[derive(Default)]
struct Announce([Option<Transition>; 2]);

impl Announce {
    fn push(&mut self, t: Transition) {
        if let Some(slot) = self.0.iter_mut().find(|s| s.is_none()) {
            *slot = Some(t);
        }
    }
}

/// One breaker's state, shared by every clone of its [`Breaker`](super::Breaker).
pub(crate) struct Shared {
    word: AtomicU64,
    open_until: AtomicU64,
    pub(crate) name: &'static str,
    /// The same name behind a thin pointer, for [`Rejected`].
    thin_name: &'static &'static str,
    pub(crate) config: BreakerConfig,
    pub(crate) clock: ClockSource,
    slow_nanos: u64,
    /// Consecutive policy without slow-call detection: closed outcomes are
    /// counted in the state word alone, without the lock.
    lock_free: bool,
    cold: Mutex<Cold>,
    listener: Option<Weak<dyn TransitionListener>>,
    telemetry: BreakerTelemetry,
}

impl Shared {
    pub(crate) fn new(
        thin_name: &'static &'static str,
        config: BreakerConfig,
        clock: ClockSource,
        listener: Option<Weak<dyn TransitionListener>>,
    ) -> Shared {
        let window = config.uses_window().then(|| match config.window_duration {
            Some(span) => Window::time(duration_to_u64(span)),
            None => Window::count(config.window),
        });
        let name = *thin_name;
        let seed = clock.now().as_u64() ^ (name.as_ptr() as u64).rotate_left(32);
        Shared {
            word: AtomicU64::new(Word::INITIAL.raw()),
            open_until: AtomicU64::new(0),
            name,
            thin_name,
            slow_nanos: config.slow_call_duration.map_or(0, duration_to_u64),
            lock_free: config.slow_call_duration.is_none()
                && config.policy == Policy::ConsecutiveFailures,
            cold: Mutex::new(Cold {
                window,
                trials: Trials::default(),
                reopens: 0,
                last_transition: None,
                jitter: Jitter::new(seed),
            }),
            config,
            clock,
            listener,
            telemetry: BreakerTelemetry::new(name),
        }
    }

    #[inline]
    pub(crate) fn word(&self) -> Word {
        Word::from_raw(self.word.load(Ordering::Acquire))
    }

    /// Half-open trials past their deadline re-open the breaker even when no
    /// call asks for permission (driven by probes and snapshots).
    pub(crate) fn expire_trials(&self) {
        let mut announce = Announce::default();
        {
            let mut cold = self.cold.lock();
            let word = self.word();
            let now = self.clock.now();
            if word.state() == BreakerState::HalfOpen && now >= cold.trials.deadline {
                announce.push(self.reopen(&mut cold, word, now).1);
            }
        }
        self.announce(announce);
    }

    /// Moves to `to` by hand (force open, disable, reset). Always starts a new
    /// generation, so a reset clears counters even when already closed.
    pub(crate) fn force(&self, to: BreakerState) {
        let mut announce = Announce::default();
        {
            let mut cold = self.cold.lock();
            let word = self.word();
            if to == BreakerState::Closed {
                cold.reopens = 0;
            }
            let now = self.clock.now();
            announce.push(self.transition(&mut cold, word, to, now).1);
        }
        self.announce(announce);
    }

    /// Publishes a new generation in `to`. Caller holds the lock, so the
    /// generation cannot move under it; only failure counts can race.
    fn transition(
        &self,
        cold: &mut Cold,
        from: Word,
        to: BreakerState,
        now: Nanos,
    ) -> (Word, Transition) {
        let next = from.next(to);
        // Trial accounting belongs to one half-open generation.
        cold.trials = Trials::default();
        match to {
            BreakerState::Open => {
                let unit = cold.jitter.next_unit();
                let open_for = open_duration(&self.config, cold.reopens, unit);
                let until = now.saturating_add(open_for).as_u64();
                self.open_until.store(until, Ordering::Release);
            }
            BreakerState::HalfOpen => {
                cold.trials = Trials {
                    in_flight: 0,
                    successes: 0,
                    deadline: now.saturating_add(self.config.half_open_timeout()),
                };
            }
            BreakerState::Closed => cold.reopens = 0,
            BreakerState::ForcedOpen | BreakerState::Disabled => {}
        }
        if let Some(window) = cold.window.as_mut() {
            window.clear();
        }
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
        (next, transition)
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

    fn announce(&self, announce: Announce) {
        for transition in announce.0.into_iter().flatten() {
            if transition.from == transition.to {
                continue;
            }
            self.telemetry.transition(transition.from, transition.to);
            match self.listener.as_ref().and_then(Weak::upgrade) {
                Some(listener) => listener.on_transition(self, transition),
                None => crate::events::breaker_transition(self.name, transition, None),
            }
        }
    }

    /// When the current open period ends, while open.
    pub(crate) fn open_until(&self) -> Option<Nanos> {
        (self.word().state() == BreakerState::Open)
            .then(|| Nanos::from_u64(self.open_until.load(Ordering::Acquire)))
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
            BreakerState::ForcedOpen => Some(self.config.recovery_timeout),
            _ => None,
        };
        Observed {
            word,
            window: cold.window.as_ref().map(|w| w.counts(now)),
            trials_in_flight: cold.trials.in_flight,
            retry_after,
            last_transition: cold.last_transition,
            now,
        }
    }
}

/// A consistent read of a breaker's cold state.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Observed {
    pub(crate) word: Word,
    pub(crate) window: Option<WindowCounts>,
    pub(crate) trials_in_flight: u32,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) last_transition: Option<Transition>,
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
