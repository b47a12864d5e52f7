//! The HTTP response classifier.

use brownout::Outcome;
use http::{Response, StatusCode};

use super::Classify;

/// The first status whose outcome can be overridden.
const FIRST: u16 = 400;
/// The last status whose outcome can be overridden.
const LAST: u16 = 599;
/// Two bits per overridable status.
const WORDS: usize = ((LAST - FIRST + 1) as usize * 2).div_ceil(64);

/// Classifies `http::Response`s: `5xx` is a failure, everything else a
/// success, an `Err` (connection refused, a timeout) a failure.
///
/// Any `4xx` or `5xx` status can be overridden, e.g. to count
/// `429 Too Many Requests` as a failure or to ignore it. The table is a
/// few machine words and `Copy`, so cloning it into each response future
/// costs nothing measurable.
///
/// ```
/// use brownout::Outcome;
/// use brownout_tower::classify::{Classify, HttpClassifier};
/// use http::{Response, StatusCode};
///
/// let classify = HttpClassifier::new().failure_on(StatusCode::TOO_MANY_REQUESTS);
/// let answer = |status: u16| -> Result<Response<()>, std::io::Error> {
///     Ok(Response::builder().status(status).body(()).unwrap())
/// };
/// assert_eq!(classify.classify(&answer(200)), Outcome::Success);
/// assert_eq!(classify.classify(&answer(404)), Outcome::Success);
/// assert_eq!(classify.classify(&answer(429)), Outcome::Failure);
/// assert_eq!(classify.classify(&answer(503)), Outcome::Failure);
/// assert_eq!(classify.classify(&Err::<Response<()>, _>(std::io::Error::other("refused"))), Outcome::Failure);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpClassifier {
    /// 2 bits per status in `FIRST..=LAST`: 0 default, 1 success, 2 failure, 3 ignore.
    overrides: [u64; WORDS],
}

impl HttpClassifier {
    /// `5xx` is a failure, every other status a success, `Err` a failure.
    #[must_use]
    pub const fn new() -> Self {
        HttpClassifier {
            overrides: [0; WORDS],
        }
    }

    /// Sets the outcome of one status. Only `4xx` and `5xx` statuses can be
    /// overridden; for any other status this returns the classifier
    /// unchanged (those always follow the default rule).
    #[must_use]
    pub const fn status(mut self, status: StatusCode, outcome: Outcome) -> Self {
        let code = status.as_u16();
        if code < FIRST || code > LAST {
            return self;
        }
        let bits: u64 = match outcome {
            Outcome::Success => 1,
            Outcome::Failure | Outcome::Timeout => 2,
            Outcome::Ignore => 3,
        };
        let slot = (code - FIRST) as usize * 2;
        let (word, shift) = (slot / 64, slot % 64);
        self.overrides[word] = (self.overrides[word] & !(3 << shift)) | (bits << shift);
        self
    }

    /// Counts `status` as a failure (e.g. `429 Too Many Requests`).
    #[must_use]
    pub const fn failure_on(self, status: StatusCode) -> Self {
        self.status(status, Outcome::Failure)
    }

    /// Records nothing for `status` (e.g. `429` when the limit is yours, not
    /// the dependency's fault); in half-open the trial slot is given back.
    #[must_use]
    pub const fn ignore_on(self, status: StatusCode) -> Self {
        self.status(status, Outcome::Ignore)
    }

    /// Counts `status` as a success (e.g. `501 Not Implemented`).
    #[must_use]
    pub const fn success_on(self, status: StatusCode) -> Self {
        self.status(status, Outcome::Success)
    }

    /// The outcome of a response with this status.
    #[inline]
    #[must_use]
    pub const fn classify_status(&self, status: StatusCode) -> Outcome {
        let code = status.as_u16();
        if code >= FIRST && code <= LAST {
            let slot = (code - FIRST) as usize * 2;
            match (self.overrides[slot / 64] >> (slot % 64)) & 3 {
                1 => return Outcome::Success,
                2 => return Outcome::Failure,
                3 => return Outcome::Ignore,
                _ => {}
            }
        }
        if code >= 500 && code <= 599 {
            Outcome::Failure
        } else {
            Outcome::Success
        }
    }
}

impl<B, E> Classify<Response<B>, E> for HttpClassifier {
    #[inline]
    fn classify(&self, result: &Result<Response<B>, E>) -> Outcome {
        match result {
            Ok(response) => self.classify_status(response.status()),
            Err(_) => Outcome::Failure,
        }
    }
}
