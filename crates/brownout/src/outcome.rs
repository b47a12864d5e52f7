//! What a finished call means to its breaker.

/// The classification of one call's result.
///
/// ```
/// use brownout::Outcome;
///
/// assert_eq!(Outcome::of_result(&Ok::<(), ()>(())), Outcome::Success);
/// assert_eq!(Outcome::of_result(&Err::<(), _>("boom")), Outcome::Failure);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The dependency answered well.
    Success,
    /// The dependency failed: counts toward opening, re-opens a half-open breaker.
    Failure,
    /// Not the dependency's fault (e.g. a 404, a cancelled request): records
    /// nothing and gives back a half-open slot.
    Ignore,
    /// The call outlived its `call_timeout`: a failure, counted apart in metrics.
    Timeout,
}

impl Outcome {
    /// The default classifier: `Ok` is a success, `Err` a failure.
    #[inline]
    pub fn of_result<T, E>(result: &Result<T, E>) -> Outcome {
        match result {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        }
    }

    /// Whether this outcome counts against the dependency (failure or timeout).
    #[inline]
    #[must_use]
    pub const fn is_failure(self) -> bool {
        matches!(self, Outcome::Failure | Outcome::Timeout)
    }
}
