//! How a [`BreakerService`](super::BreakerService) holds its breaker, and
//! what kind of permit its response futures carry.
//!
//! A tower response future cannot borrow from its service, so the permit
//! it holds must reach the breaker on its own:
//!
//! - an owned [`Breaker`] hands out an [`OwnedPermit`], which owns a handle
//!   to the breaker. A released permit leaves its handle with its thread,
//!   and the next one for the same breaker on that thread takes it back, so
//!   a thread calling the same few dependencies updates no reference count
//!   per request (one that moves between more breakers, or a request that
//!   completes on another thread than it started, clones and drops one);
//! - a `&'static Breaker` hands out a [`Permit<'static>`], a plain
//!   reference: nothing to clone, whatever the threads do. For dependencies
//!   that live as long as the process (most do), get one with
//!   [`Breaker::leak`].

use brownout::{Breaker, Outcome, OwnedPermit, Permit, Rejected};

mod sealed {
    pub trait Sealed {}
    impl Sealed for brownout::Breaker {}
    impl Sealed for &'static brownout::Breaker {}
    impl Sealed for brownout::OwnedPermit {}
    impl Sealed for brownout::Permit<'static> {}
}

/// What a [`BreakerLayer`](super::BreakerLayer) holds: an owned [`Breaker`]
/// (the default) or a `&'static Breaker` (see
/// [`BreakerLayer::from_static`](super::BreakerLayer::from_static)).
///
/// Sealed: implemented for those two only.
pub trait BreakerHandle: sealed::Sealed + Clone {
    /// The permit a response future carries.
    type Permit: CallPermit;

    /// The breaker.
    fn breaker(&self) -> &Breaker;

    /// Asks the breaker for a permit.
    ///
    /// # Errors
    /// [`Rejected`] while the breaker refuses calls.
    fn acquire(&self) -> Result<Self::Permit, Rejected>;
}

impl BreakerHandle for Breaker {
    type Permit = OwnedPermit;

    #[inline]
    fn breaker(&self) -> &Breaker {
        self
    }

    #[inline]
    fn acquire(&self) -> Result<OwnedPermit, Rejected> {
        self.try_acquire_owned()
    }
}

impl BreakerHandle for &'static Breaker {
    type Permit = Permit<'static>;

    #[inline]
    fn breaker(&self) -> &Breaker {
        self
    }

    #[inline]
    fn acquire(&self) -> Result<Permit<'static>, Rejected> {
        self.try_acquire()
    }
}

/// A permit a response future can carry: `'static`, and able to report.
///
/// Sealed: implemented for [`OwnedPermit`] and [`Permit<'static>`].
pub trait CallPermit: sealed::Sealed + Send + 'static {
    /// Records the call's outcome.
    fn record(self, outcome: Outcome);

    /// Records the call's outcome, keeping the permit (spent) in place.
    fn record_in_place(&mut self, outcome: Outcome);

    /// Whether the call has outlived the breaker's `call_timeout`.
    fn overran(&self) -> bool;

    /// The dependency the permit is for.
    fn dependency(&self) -> &str;
}

impl CallPermit for OwnedPermit {
    #[inline]
    fn record(self, outcome: Outcome) {
        OwnedPermit::record(self, outcome);
    }

    #[inline]
    fn record_in_place(&mut self, outcome: Outcome) {
        OwnedPermit::record_in_place(self, outcome);
    }

    #[inline]
    fn overran(&self) -> bool {
        OwnedPermit::overran(self)
    }

    fn dependency(&self) -> &str {
        OwnedPermit::dependency(self)
    }
}

impl CallPermit for Permit<'static> {
    #[inline]
    fn record(self, outcome: Outcome) {
        Permit::record(self, outcome);
    }

    #[inline]
    fn record_in_place(&mut self, outcome: Outcome) {
        Permit::record_in_place(self, outcome);
    }

    #[inline]
    fn overran(&self) -> bool {
        Permit::overran(self)
    }

    fn dependency(&self) -> &str {
        Permit::dependency(self)
    }
}
