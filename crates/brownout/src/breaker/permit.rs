//! Permission to make one call, and the obligation to report how it went.

use std::fmt;
use std::sync::Arc;

use super::engine::{Shared, Ticket};
use super::spare::Handle;
use crate::error::{Error, TimedOut};
use crate::outcome::Outcome;

/// The bookkeeping shared by both permit types: report once, or on drop
/// report nothing (or a failure while unwinding from a panic).
///
/// A reported guard's ticket is [`Ticket::SPENT`]: a flag would add a byte
/// and seven of padding to every permit and to every future that holds one.
struct Guard<S: AsRef<Shared>> {
    shared: S,
    ticket: Ticket,
}

impl<S: AsRef<Shared>> Guard<S> {
    #[inline]
    fn finish(&mut self, outcome: Outcome) {
        let ticket = std::mem::replace(&mut self.ticket, Ticket::SPENT);
        self.shared.as_ref().record(ticket, outcome);
    }
}

impl<S: AsRef<Shared>> Drop for Guard<S> {
    #[inline]
    fn drop(&mut self) {
        if !self.ticket.is_spent() {
            self.shared.as_ref().abandon(self.ticket);
        }
    }
}

impl AsRef<Shared> for &Shared {
    fn as_ref(&self) -> &Shared {
        self
    }
}

macro_rules! permit_methods {
    () => {
        /// The call succeeded.
        #[inline]
        pub fn success(mut self) {
            self.0.finish(Outcome::Success);
        }

        /// The call failed: counts toward opening; re-opens a half-open breaker.
        #[inline]
        pub fn failure(mut self) {
            self.0.finish(Outcome::Failure);
        }

        /// The outcome says nothing about the dependency: record nothing and
        /// give back the half-open slot. Dropping the permit does the same.
        #[inline]
        pub fn ignore(mut self) {
            self.0.finish(Outcome::Ignore);
        }

        /// Records a classified outcome.
        #[inline]
        pub fn record(mut self, outcome: Outcome) {
            self.0.finish(outcome);
        }

        /// Records a classified outcome and keeps the permit, spent: later
        /// reports and the drop record nothing. For a future that holds its
        /// permit in place until it is dropped, rather than moving it out
        /// to report.
        #[inline]
        pub fn record_in_place(&mut self, outcome: Outcome) {
            if !self.0.ticket.is_spent() {
                self.0.finish(outcome);
            }
        }

        /// The dependency this permit is for.
        #[must_use]
        pub fn dependency(&self) -> &str {
            &self.0.shared.as_ref().name
        }

        /// Whether the call has outlived the breaker's `call_timeout` (always
        /// `false` without one). Record [`Outcome::Timeout`] for such a call.
        #[inline]
        #[must_use]
        pub fn overran(&self) -> bool {
            self.0.shared.as_ref().overran(self.0.ticket)
        }
    };
}

/// Permission for one call, borrowed from its [`Breaker`](crate::Breaker).
///
/// Report the outcome with [`success`](Permit::success),
/// [`failure`](Permit::failure) or [`ignore`](Permit::ignore). Dropped without
/// an outcome (a cancelled future, an early return) it records nothing and
/// gives back its half-open slot; dropped while a panic unwinds it records a
/// failure.
#[must_use = "report the call's outcome; dropping the permit records nothing"]
pub struct Permit<'a>(Guard<&'a Shared>);

impl<'a> Permit<'a> {
    #[inline]
    pub(crate) fn new(shared: &'a Shared, ticket: Ticket) -> Self {
        Permit(Guard { shared, ticket })
    }

    /// Records a finished call's outcome (a late one is a timeout) and
    /// turns its result into the caller's.
    #[inline(always)]
    pub(crate) fn finish_call<T, E, C>(
        self,
        classify: C,
        result: Result<T, E>,
    ) -> Result<T, Error<E>>
    where
        C: FnOnce(&Result<T, E>) -> Outcome,
    {
        if self.overran() {
            return Err(Error::Timeout(self.timed_out()));
        }
        self.record(classify(&result));
        result.map_err(Error::Inner)
    }

    /// Records a call that outlived its timeout and builds the error.
    #[cold]
    #[inline(never)]
    pub(crate) fn timed_out(self) -> TimedOut {
        let shared = self.0.shared;
        self.record(Outcome::Timeout);
        TimedOut::new(
            shared.name.clone(),
            shared.call_timeout().unwrap_or_default(),
        )
    }

    permit_methods!();
}

/// A [`Permit`] that owns a handle to its breaker, for futures that must be `'static`.
///
/// Released, its handle stays with the thread as a spare, and the next
/// owned permit for the same breaker taken on that thread reuses it: a
/// thread that keeps calling the same few breakers updates no reference
/// count per call. A thread keeps spares for at most four breakers, which
/// stay allocated until the thread moves on to others or exits.
#[must_use = "report the call's outcome; dropping the permit records nothing"]
pub struct OwnedPermit(Guard<Handle>);

impl OwnedPermit {
    #[inline]
    pub(crate) fn new(shared: &Arc<Shared>, ticket: Ticket) -> Self {
        OwnedPermit(Guard {
            shared: Handle::new(shared),
            ticket,
        })
    }

    permit_methods!();
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("dependency", &self.dependency())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for OwnedPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit")
            .field("dependency", &self.dependency())
            .finish_non_exhaustive()
    }
}
