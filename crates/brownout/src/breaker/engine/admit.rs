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

/// What the out-of-line admission decided, in two words so that it comes
/// back in registers: a ticket, or a rejection's state and retry time
/// (packed as [`Rejected`] keeps them). The rejection itself, with the
/// dependency's name, is built in the caller, where it stays: a `Result`
/// returned through memory is written in pieces that the caller's wider
/// loads cannot forward from, and stalls until the stores retire.
#[derive(Clone, Copy)]
struct Decision {
    /// The ticket's epoch, or [`Decision::REJECTED`].
    epoch: u64,
    /// The ticket's start time, or the packed rejection.
    payload: u64,
}

impl Decision {
    /// No ticket has this epoch (an admission's epoch carries no failure bits).
    const REJECTED: u64 = Ticket::SPENT.epoch;

    fn admit(ticket: Ticket) -> Self {
        Decision {
            epoch: ticket.epoch,
            payload: ticket.started.as_u64(),
        }
    }

    fn reject(state: BreakerState, retry_nanos: u64) -> Self {
        Decision {
            epoch: Self::REJECTED,
            payload: Rejected::pack(state, retry_nanos),
        }
    }

    #[inline(always)]
    fn into_result(self, shared: &Shared) -> Result<Ticket, Rejected> {
        if self.epoch == Self::REJECTED {
            Err(Rejected::from_packed(shared.name.clone(), self.payload))
        } else {
            Ok(Ticket {
                epoch: self.epoch,
                started: Nanos::from_u64(self.payload),
            })
        }
    }
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
    fn rejected(&self, state: BreakerState, retry_nanos: u64) -> Decision {
        self.telemetry.rejected();
        Decision::reject(state, retry_nanos)
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
        self.acquire_slow(word).into_result(self)
    }

    #[inline(never)]
    fn acquire_slow(&self, word: Word) -> Decision {
        match word.state() {
            BreakerState::Closed | BreakerState::Disabled => Decision::admit(self.ticket(word)),
            BreakerState::Open => {
                let now = self.clock.now_coarse().as_u64();
                let left = self.open_until.load(Ordering::Acquire).saturating_sub(now);
                if left > COARSE_SLACK_NANOS {
                    return self.rejected(BreakerState::Open, left);
                }
                // Near the deadline the coarse clock may lag: decide on the precise one.
                self.acquire_cold()
            }
            // Stays until reset: nothing to decide under the lock.
            BreakerState::ForcedOpen => {
                self.rejected(BreakerState::ForcedOpen, self.tuning.recovery_nanos())
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
                        return self.rejected(BreakerState::HalfOpen, left);
                    }
                }
                self.acquire_cold()
            }
        }
    }

    #[inline(never)]
    fn acquire_cold(&self) -> Decision {
        let now = self.clock.now();
        let mut announce = None;
        let result = {
            let mut cold = self.cold.lock();
            let word = self.word();
            match word.state() {
                BreakerState::Closed | BreakerState::Disabled => Decision::admit(self.ticket(word)),
                BreakerState::ForcedOpen => {
                    self.rejected(BreakerState::ForcedOpen, self.tuning.recovery_nanos())
                }
                BreakerState::Open => {
                    let until = Nanos::from_u64(self.open_until.load(Ordering::Acquire));
                    if now < until {
                        self.rejected(BreakerState::Open, nanos_until(until, now))
                    } else {
                        let half = self.transition(&mut cold, word, BreakerState::HalfOpen, now);
                        announce = Some(half);
                        cold.trials.in_flight = 1;
                        self.publish_trials(&cold.trials);
                        Decision::admit(self.ticket(self.word()))
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
    ) -> Decision {
        if now >= cold.trials.deadline {
            // The trials did not all answer in time: they count as failed.
            *announce = Some(self.reopen(cold, word, now, TripCause::TrialsTimedOut));
            let until = Nanos::from_u64(self.open_until.load(Ordering::Acquire));
            return self.rejected(BreakerState::Open, nanos_until(until, now));
        }
        let trials = &mut cold.trials;
        if trials.in_flight + trials.successes < cold.config.half_open_max_calls {
            trials.in_flight += 1;
            self.publish_trials(&cold.trials);
            Decision::admit(self.ticket(word))
        } else {
            // Every slot is taken: the trials answer, or count as failed, by the deadline.
            let left = nanos_until(cold.trials.deadline, now);
            self.rejected(BreakerState::HalfOpen, left)
        }
    }
}
