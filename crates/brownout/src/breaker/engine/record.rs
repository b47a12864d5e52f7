//! Outcomes: recording a finished call, and what it does to the state machine.

use super::{Cold, Shared, Ticket};
use crate::breaker::trip::TripCause;
use crate::breaker::window::WindowCounts;
use crate::config::{BreakerConfig, Policy};
use crate::nanos::duration_to_u64;
use crate::outcome::Outcome;
use crate::state::BreakerState;

impl Shared {
    /// Records the outcome of an admitted call. A closed success under the
    /// consecutive policy with no failure pending is inlined into the caller
    /// and writes nothing.
    #[inline(always)]
    pub(crate) fn record(&self, ticket: Ticket, outcome: Outcome) {
        self.telemetry.call(outcome);
        if outcome == Outcome::Success
            && self.tuning.lock_free()
            && ticket.state() == BreakerState::Closed
            && self.word().failures() == 0
        {
            return;
        }
        self.record_slow(ticket, outcome);
    }

    #[inline(never)]
    fn record_slow(&self, ticket: Ticket, outcome: Outcome) {
        let failed = match outcome {
            Outcome::Ignore => return self.release(ticket),
            Outcome::Success => false,
            Outcome::Failure | Outcome::Timeout => true,
        };
        let slow_nanos = self.tuning.slow_nanos();
        let slow = slow_nanos != 0
            && duration_to_u64(self.clock.now().saturating_since(ticket.started)) > slow_nanos;
        match ticket.state() {
            BreakerState::Closed if self.tuning.lock_free() => {
                if failed {
                    self.count_failure(ticket);
                } else {
                    self.clear_failures(ticket);
                }
            }
            BreakerState::Closed => self.record_windowed(ticket, failed, slow),
            BreakerState::HalfOpen => self.record_trial(ticket, failed || slow),
            // Disabled counts nothing; open states admit no calls.
            _ => {}
        }
    }

    /// A permit dropped without an outcome: a failure if unwinding from a
    /// panic, otherwise nothing recorded and the half-open slot given back.
    pub(crate) fn abandon(&self, ticket: Ticket) {
        if std::thread::panicking() {
            self.record(ticket, Outcome::Failure);
        } else {
            self.release(ticket);
        }
    }

    fn release(&self, ticket: Ticket) {
        if ticket.state() == BreakerState::HalfOpen {
            let mut cold = self.cold.lock();
            if self.word().epoch() == ticket.epoch {
                cold.trials.in_flight = cold.trials.in_flight.saturating_sub(1);
                self.publish_trials(&cold.trials);
            }
        }
    }

    #[inline]
    fn clear_failures(&self, ticket: Ticket) {
        let mut word = self.word();
        while word.failures() != 0 && word.epoch() == ticket.epoch {
            match self.cas(word, word.with_failures(0)) {
                Ok(()) => return,
                Err(actual) => word = actual,
            }
        }
    }

    fn count_failure(&self, ticket: Ticket) {
        let mut word = self.word();
        while word.epoch() == ticket.epoch {
            let failures = u64::from(word.failures()) + 1;
            if failures >= u64::from(self.tuning.failure_threshold()) {
                return self.trip_consecutive(ticket);
            }
            match self.cas(word, word.with_failures(failures)) {
                Ok(()) => return,
                Err(actual) => word = actual,
            }
        }
    }

    /// The failure that reaches `failure_threshold` opens the breaker.
    fn trip_consecutive(&self, ticket: Ticket) {
        let announce = {
            let mut cold = self.cold.lock();
            let word = self.word();
            (word.epoch() == ticket.epoch).then(|| {
                let now = self.clock.now();
                let mut trip = self.trip(&cold, word, now, TripCause::ConsecutiveFailures);
                trip.consecutive_failures = word.failures().saturating_add(1);
                self.open(&mut cold, word, now, trip)
            })
        };
        self.announce(announce);
    }

    fn record_windowed(&self, ticket: Ticket, failed: bool, slow: bool) {
        let announce = {
            let mut cold = self.cold.lock();
            let word = self.word();
            if word.epoch() != ticket.epoch {
                return;
            }
            let now = self.clock.now();
            let mut cause = None;
            let mut word_now = word;
            if cold.config.policy == Policy::ConsecutiveFailures {
                let failures = if failed {
                    u64::from(word.failures()) + 1
                } else {
                    0
                };
                if failures >= u64::from(cold.config.failure_threshold) {
                    cause = Some(TripCause::ConsecutiveFailures);
                }
                // Under the lock nobody else moves the generation; retry only on racing counts.
                let mut current = word;
                while let Err(actual) = self.cas(current, current.with_failures(failures)) {
                    current = actual;
                }
                word_now = current.with_failures(failures);
            }
            let Cold { window, config, .. } = &mut *cold;
            if let Some(window) = window.as_mut() {
                window.record(now, failed, slow);
                cause = cause.or_else(|| rates_trip(config, window.counts(now)));
            }
            cause.map(|cause| {
                let trip = self.trip(&cold, word_now, now, cause);
                self.open(&mut cold, word_now, now, trip)
            })
        };
        self.announce(announce);
    }

    fn record_trial(&self, ticket: Ticket, failed: bool) {
        let announce = {
            let mut cold = self.cold.lock();
            let word = self.word();
            if word.epoch() != ticket.epoch {
                return; // a trial of an earlier half-open: never moves the state machine
            }
            let now = self.clock.now();
            cold.trials.in_flight = cold.trials.in_flight.saturating_sub(1);
            self.publish_trials(&cold.trials);
            // Trials that have not all answered within half_open_timeout count as failed.
            if failed {
                Some(self.reopen(&mut cold, word, now, TripCause::TrialFailed))
            } else if now >= cold.trials.deadline {
                Some(self.reopen(&mut cold, word, now, TripCause::TrialsTimedOut))
            } else {
                cold.trials.successes += 1;
                self.publish_trials(&cold.trials);
                (cold.trials.successes >= cold.config.half_open_max_calls)
                    .then(|| self.transition(&mut cold, word, BreakerState::Closed, now))
            }
        };
        self.announce(announce);
    }
}

/// Which rate, if any, opens the breaker at these counts.
fn rates_trip(config: &BreakerConfig, counts: WindowCounts) -> Option<TripCause> {
    // A count window never holds more than `window` calls: a full one is enough.
    let minimum = match config.window_duration {
        None => config.minimum_calls.min(config.window),
        Some(_) => config.minimum_calls,
    };
    if counts.calls < minimum || counts.calls == 0 {
        return None;
    }
    let calls = f64::from(counts.calls);
    let failure_rate = f64::from(counts.failures) / calls;
    let slow_rate = f64::from(counts.slow_calls) / calls;
    if config.policy == Policy::FailureRate && failure_rate >= config.failure_rate_threshold {
        Some(TripCause::FailureRate)
    } else if config.slow_call_duration.is_some() && slow_rate >= config.slow_call_rate_threshold {
        Some(TripCause::SlowCallRate)
    } else {
        None
    }
}
