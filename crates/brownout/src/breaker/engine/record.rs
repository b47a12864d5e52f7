//! Outcomes: recording a finished call, and what it does to the state machine.

use super::{Announce, Cold, Shared, Ticket};
use crate::breaker::state::{BreakerState, Word};
use crate::breaker::window::WindowCounts;
use crate::breaker::{Outcome, Transition};
use crate::clock::Nanos;
use crate::config::Policy;
use crate::nanos::duration_to_u64;

impl Shared {
    /// Records the outcome of an admitted call. A closed success under the
    /// consecutive policy with no failure pending is inlined into the caller
    /// and writes nothing.
    #[inline(always)]
    pub(crate) fn record(&self, ticket: Ticket, outcome: Outcome) {
        self.telemetry.call(outcome);
        if outcome == Outcome::Success
            && self.lock_free
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
            Outcome::Failure => true,
        };
        let slow = self.slow_nanos != 0
            && duration_to_u64(self.clock.now().saturating_since(ticket.started)) > self.slow_nanos;
        match ticket.state() {
            BreakerState::Closed if self.lock_free => {
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
            if failures >= u64::from(self.config.failure_threshold) {
                return self.trip(ticket);
            }
            match self.cas(word, word.with_failures(failures)) {
                Ok(()) => return,
                Err(actual) => word = actual,
            }
        }
    }

    fn trip(&self, ticket: Ticket) {
        let mut announce = Announce::default();
        {
            let mut cold = self.cold.lock();
            let word = self.word();
            if word.epoch() == ticket.epoch {
                let now = self.clock.now();
                announce.push(self.transition(&mut cold, word, BreakerState::Open, now).1);
            }
        }
        self.announce(announce);
    }

    #[cold]
    fn record_windowed(&self, ticket: Ticket, failed: bool, slow: bool) {
        let mut announce = Announce::default();
        {
            let mut cold = self.cold.lock();
            let word = self.word();
            if word.epoch() != ticket.epoch {
                return;
            }
            let now = self.clock.now();
            let mut trip = false;
            if self.config.policy == Policy::ConsecutiveFailures {
                let failures = if failed {
                    u64::from(word.failures()) + 1
                } else {
                    0
                };
                trip |= failures >= u64::from(self.config.failure_threshold);
                // Under the lock nobody else moves the generation; retry only on racing counts.
                let mut current = word;
                while let Err(actual) = self.cas(current, current.with_failures(failures)) {
                    current = actual;
                }
            }
            if let Some(window) = cold.window.as_mut() {
                window.record(now, failed, slow);
                let counts = window.counts(now);
                trip |= self.rates_trip(counts);
            }
            if trip {
                announce.push(self.transition(&mut cold, word, BreakerState::Open, now).1);
            }
        }
        self.announce(announce);
    }

    fn rates_trip(&self, counts: WindowCounts) -> bool {
        // A count window never holds more than `window` calls: a full one is enough.
        let minimum = match self.config.window_duration {
            None => self.config.minimum_calls.min(self.config.window),
            Some(_) => self.config.minimum_calls,
        };
        if counts.calls < minimum || counts.calls == 0 {
            return false;
        }
        let calls = f64::from(counts.calls);
        let failure_rate = f64::from(counts.failures) / calls;
        let slow_rate = f64::from(counts.slow_calls) / calls;
        (self.config.policy == Policy::FailureRate
            && failure_rate >= self.config.failure_rate_threshold)
            || (self.slow_nanos != 0 && slow_rate >= self.config.slow_call_rate_threshold)
    }

    fn record_trial(&self, ticket: Ticket, failed: bool) {
        let mut announce = Announce::default();
        {
            let mut cold = self.cold.lock();
            let word = self.word();
            if word.epoch() != ticket.epoch {
                return; // a trial of an earlier half-open: never moves the state machine
            }
            let now = self.clock.now();
            cold.trials.in_flight = cold.trials.in_flight.saturating_sub(1);
            // Trials that have not all answered within half_open_timeout count as failed.
            if failed || now >= cold.trials.deadline {
                announce.push(self.reopen(&mut cold, word, now).1);
            } else {
                cold.trials.successes += 1;
                if cold.trials.successes >= self.config.half_open_max_calls {
                    let closed = self.transition(&mut cold, word, BreakerState::Closed, now);
                    announce.push(closed.1);
                }
            }
        }
        self.announce(announce);
    }

    /// Re-opens a half-open breaker, backing off the open time.
    pub(super) fn reopen(&self, cold: &mut Cold, word: Word, now: Nanos) -> (Word, Transition) {
        cold.reopens = cold.reopens.saturating_add(1);
        self.transition(cold, word, BreakerState::Open, now)
    }
}
