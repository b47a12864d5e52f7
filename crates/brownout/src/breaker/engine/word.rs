//! The packed word that publishes a breaker's state (private to the engine).
//!
//! One `AtomicU64` holds everything the hot path reads or writes:
//!
//! ```text
//!  63            35 34              3 2     0
//! +----------------+-----------------+-------+
//! | consecutive    | generation      | state |
//! | failures (29)  | (32, wrapping)  | (3)   |
//! +----------------+-----------------+-------+
//! ```
//!
//! Every state change bumps the generation and clears the failure count, so an
//! outcome carrying an older word can be recognised and kept out of the state
//! machine.

use std::fmt;

use crate::state::BreakerState;

const STATE_BITS: u32 = 3;
const GEN_BITS: u32 = 32;
const STATE_MASK: u64 = (1 << STATE_BITS) - 1;
const GEN_SHIFT: u32 = STATE_BITS;
const GEN_MASK: u64 = ((1 << GEN_BITS) - 1) << GEN_SHIFT;
const FAILURES_SHIFT: u32 = STATE_BITS + GEN_BITS;
const FAILURES_MAX: u64 = (1 << (64 - FAILURES_SHIFT)) - 1;

/// The packed state word (see the module docs).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Word(u64);

impl Word {
    /// Closed, generation 0, no failures.
    pub(crate) const INITIAL: Word = Word(0);

    pub(crate) const fn from_raw(raw: u64) -> Word {
        Word(raw)
    }

    pub(crate) const fn raw(self) -> u64 {
        self.0
    }

    #[inline]
    pub(crate) const fn state(self) -> BreakerState {
        BreakerState::from_code(self.0 & STATE_MASK)
    }

    #[inline]
    pub(crate) const fn generation(self) -> u32 {
        ((self.0 & GEN_MASK) >> GEN_SHIFT) as u32
    }

    #[inline]
    pub(crate) const fn failures(self) -> u32 {
        (self.0 >> FAILURES_SHIFT) as u32
    }

    /// The same state and generation: the part a permit remembers.
    #[inline]
    pub(crate) const fn epoch(self) -> u64 {
        self.0 & (STATE_MASK | GEN_MASK)
    }

    /// The same state and generation with another failure count (saturating).
    #[inline]
    pub(crate) const fn with_failures(self, failures: u64) -> Word {
        let failures = if failures > FAILURES_MAX {
            FAILURES_MAX
        } else {
            failures
        };
        Word(self.epoch() | (failures << FAILURES_SHIFT))
    }

    /// The next generation in `state`, with no failures.
    pub(crate) const fn next(self, state: BreakerState) -> Word {
        let generation = (self.generation() as u64 + 1) & ((1 << GEN_BITS) - 1);
        Word((generation << GEN_SHIFT) | state as u64)
    }
}

impl fmt::Debug for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Word")
            .field("state", &self.state())
            .field("generation", &self.generation())
            .field("failures", &self.failures())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_and_unpacks() {
        let w = Word::INITIAL;
        assert_eq!(w.state(), BreakerState::Closed);
        let w = w.with_failures(7);
        assert_eq!((w.failures(), w.generation()), (7, 0));
        let open = w.next(BreakerState::Open);
        assert_eq!(
            (open.state(), open.generation(), open.failures()),
            (BreakerState::Open, 1, 0)
        );
        assert_ne!(open.epoch(), w.epoch());
        assert_eq!(w.with_failures(u64::MAX).failures() as u64, FAILURES_MAX);
        for s in BreakerState::ALL {
            assert_eq!(Word::INITIAL.next(s).state(), s);
        }
    }

    #[test]
    fn generation_wraps_without_touching_state() {
        let w = Word((u64::from(u32::MAX) << GEN_SHIFT) | BreakerState::Closed as u64);
        let next = w.next(BreakerState::HalfOpen);
        assert_eq!(next.generation(), 0);
        assert_eq!(next.state(), BreakerState::HalfOpen);
    }
}
