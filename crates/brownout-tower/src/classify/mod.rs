//! Deciding what a response means to the breaker.
//!
//! A [`Classify`] turns the inner service's `&Result<Response, Error>` into an
//! [`Outcome`]. [`DefaultClassifier`] treats every `Err` as a failure; any
//! `Fn(&Result<T, E>) -> Outcome + Clone` is a classifier too.
#![cfg_attr(feature = "http", doc = "[`HttpClassifier`] reads HTTP status codes.")]
//!
//! ```
//! use brownout::Outcome;
//! use brownout_tower::classify::{Classify, DefaultClassifier};
//!
//! let ok: Result<u32, &str> = Ok(1);
//! assert_eq!(DefaultClassifier.classify(&ok), Outcome::Success);
//!
//! // A cancelled request says nothing about the dependency.
//! let custom = |r: &Result<u32, &str>| match r {
//!     Err(e) if *e == "cancelled" => Outcome::Ignore,
//!     Err(_) => Outcome::Failure,
//!     Ok(_) => Outcome::Success,
//! };
//! assert_eq!(custom.classify(&Err("cancelled")), Outcome::Ignore);
//! ```

#[cfg(feature = "http")]
mod http;

pub use brownout::Outcome;

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use self::http::HttpClassifier;

/// Classifies one result of the inner service.
///
/// The classifier is cloned into each response future, so keep it small:
/// a unit struct, a `Copy` table, or shared state behind an `Arc`.
pub trait Classify<T, E> {
    /// What `result` means to the dependency's breaker.
    fn classify(&self, result: &Result<T, E>) -> Outcome;
}

/// The default classifier: `Ok` is a success, `Err` a failure (a timeout
/// from an inner `tower::timeout` layer included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefaultClassifier;

impl<T, E> Classify<T, E> for DefaultClassifier {
    #[inline]
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        Outcome::of_result(result)
    }
}

impl<F, T, E> Classify<T, E> for F
where
    F: Fn(&Result<T, E>) -> Outcome,
{
    #[inline]
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        self(result)
    }
}
