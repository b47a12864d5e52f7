//! Admission: whether a call may go through, as a ticket or a rejection.

use super::word::Word;
use super::{Cold, Shared, Ticket, UNTIMED};
use crate::breaker::trip::TripCause;
use crate::clock::Nanos;
use crate::error::Rejected;
use crate::state::BreakerState;
use crate::sync::Ordering;
use crate::transition::Transition;

/// How far the coarse clock may lag the precise one. Within this of the end
/// of an open period the rejection path re-checks with the precise clock, so a
/// caller that waits exactly `retry_after` is let through.
const COARSE_SLACK_NANOS: u64 = 10_000_000;

/// Nanoseconds from `now` until `until` (zero once passed).
fn nanos_until(until: Nanos, now: Nanos) -> u64 {
    until.as_u64().saturating_sub(now.as_u64())
}

impl Shared {
    #[inline]
    fn ticket(&self, word: Word) -> Ticket {
        let started = if self.tuning.timed() {
            self.timing_now()
        } else {
            UNTIMED
        };
        Ticket {
            epoch: word.epoch(),
            started,
        }
    }

    #[inline]
    fn rejected(&self, state: BreakerState, retry_nanos: u64) -> Rejected {
        self.telemetry.rejected();
        Rejected::new(self.name.clone(), state, retry_nanos)
    }

    /// Asks to let one call through. The closed case (when calls are not
    /// timed) is inlined into the caller: one load, no clock read.
    #[inline(always)]
    pub(crate) fn acquire(&self) -> Result<Ticket, Rejected> {
        let word = self.word();
        if word.state() == BreakerState::Closed && !self.tuning.timed() {
            return Ok(Ticket {
                epoch: word.epoch(),
                started: UNTIMED,
            });
        }
        self.acquire_slow(word)
    }

    #[inline(never)]
    fn acquire_slow(&self, word: Word) -> Result<Ticket, Rejected> {
        match word.state() {
            BreakerState::Closed | BreakerState::Disabled => Ok(self.ticket(word)),
            BreakerState::Open => {
                let now = self.clock.now_coarse().as_u64();
                let left = self.open_until.load(Ordering::Acquire).saturating_sub(now);
                if left > COARSE_SLACK_NANOS {
                    return Err(self.rejected(BreakerState::Open, left));
                }
                // Near the deadline the coarse clock may lag: decide on the precise one.
                self.acquire_cold()
            }
            // Stays until reset: nothing to decide under the lock.
            BreakerState::ForcedOpen => {
                Err(self.rejected(BreakerState::ForcedOpen, self.tuning.recovery_nanos()))
            }
            BreakerState::HalfOpen => {
                // Every slot taken and the deadline not near: reject without the lock.
                let taken = self.trials_taken.load(Ordering::Acquire);
                if taken >= u64::from(self.tuning.half_open_max_calls()) {
                    let now = self.clock.now_coarse().as_u64();
                    let left = self
                        .trials_deadline
                        .load(Ordering::Acquire)
                        .saturating_sub(now);
                    if left > COARSE_SLACK_NANOS {
                        return Err(self.rejected(BreakerState::HalfOpen, left));
                    }
                }
                self.acquire_cold()
            }
        }
    }

    #[inline(never)]
    fn acquire_cold(&self) -> Result<Ticket, Rejected> {
        let now = self.clock.now();
        let mut announce = None;
        let result = {
            let mut cold = self.cold.lock();
            let word = self.word();
            match word.state() {
                BreakerState::Closed | BreakerState::Disabled => Ok(self.ticket(word)),
                BreakerState::ForcedOpen => {
                    Err(self.rejected(BreakerState::ForcedOpen, self.tuning.recovery_nanos()))
                }
                BreakerState::Open => {
                    let until = Nanos::from_u64(self.open_until.load(Ordering::Acquire));
                    if now < until {
                        Err(self.rejected(BreakerState::Open, nanos_until(until, now)))
                    } else {
                        let half = self.transition(&mut cold, word, BreakerState::HalfOpen, now);
                        announce = Some(half);
                        cold.trials.in_flight = 1;
                        self.publish_trials(&cold.trials);
                        Ok(self.ticket(self.word()))
                    }
                }
                BreakerState::HalfOpen => self.admit_trial(&mut cold, word, now, &mut announce),
            }
        };
        self.announce(announce);
        result
    }

    fn admit_trial(
        &self,
        cold: &mut Cold,
        word: Word,
        now: Nanos,
        announce: &mut Option<Transition>,
    ) -> Result<Ticket, Rejected> {
        if now >= cold.trials.deadline {
            // The trials did not all answer in time: they count as failed.
            *announce = Some(self.reopen(cold, word, now, TripCause::TrialsTimedOut));
            let until = Nanos::from_u64(self.open_until.load(Ordering::Acquire));
            return Err(self.rejected(BreakerState::Open, nanos_until(until, now)));
        }
        let trials = &mut cold.trials;
        if trials.in_flight + trials.successes < cold.config.half_open_max_calls {
            trials.in_flight += 1;
            self.publish_trials(&cold.trials);
            Ok(self.ticket(word))
        } else {
            // Every slot is taken: the trials answer, or count as failed, by the deadline.
            let left = nanos_until(cold.trials.deadline, now);
            Err(self.rejected(BreakerState::HalfOpen, left))
        }
    }
}
