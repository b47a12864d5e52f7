//! HTTP answers for shed and rejected requests (feature `http`).

use std::time::Duration;

use http::header::RETRY_AFTER;
use http::{HeaderValue, Response, StatusCode};

use crate::error::{CircuitOpen, Shed};

/// Whole seconds, rounded up, as a `Retry-After` value.
fn retry_after_value(hint: Duration) -> HeaderValue {
    let secs = hint
        .as_secs()
        .saturating_add(u64::from(hint.subsec_nanos() > 0));
    HeaderValue::from(secs)
}

/// `503 Service Unavailable` with `Retry-After`, an empty body, and `extension`.
fn unavailable<B: Default, X>(hint: Duration, extension: X) -> Response<B>
where
    X: Clone + Send + Sync + 'static,
{
    let mut response = Response::new(B::default());
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response
        .headers_mut()
        .insert(RETRY_AFTER, retry_after_value(hint));
    response.extensions_mut().insert(extension);
    response
}

pub(crate) fn service_unavailable<B: Default>(shed: &Shed) -> Response<B> {
    unavailable(shed.retry_after(), shed.clone())
}

impl Shed {
    /// `503 Service Unavailable` with `Retry-After` (whole seconds, rounded
    /// up), an empty body and this `Shed` in the response extensions.
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    #[must_use]
    pub fn to_response<B: Default>(&self) -> Response<B> {
        service_unavailable(self)
    }
}

impl CircuitOpen {
    /// `503 Service Unavailable` with `Retry-After` (whole seconds, rounded
    /// up), an empty body and this `CircuitOpen` in the response extensions:
    /// for a server that turns a [`BreakerLayer`](crate::BreakerLayer)
    /// rejection into an answer (e.g. in axum's `HandleErrorLayer`).
    ///
    /// ```
    /// # use brownout::{Breaker, BreakerConfig};
    /// # use brownout_tower::error::CircuitOpen;
    /// # let breaker = Breaker::new("search", BreakerConfig::default())?;
    /// # breaker.force_open();
    /// # let open = CircuitOpen::from(breaker.try_acquire().unwrap_err());
    /// let response: http::Response<String> = open.to_response();
    /// assert_eq!(response.status(), http::StatusCode::SERVICE_UNAVAILABLE);
    /// assert!(response.headers().contains_key(http::header::RETRY_AFTER));
    /// # Ok::<(), brownout::ConfigError>(())
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    #[must_use]
    pub fn to_response<B: Default>(&self) -> Response<B> {
        unavailable(self.retry_after(), self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_value(Duration::ZERO), "0");
        assert_eq!(retry_after_value(Duration::from_millis(1)), "1");
        assert_eq!(retry_after_value(Duration::from_secs(30)), "30");
        assert_eq!(retry_after_value(Duration::from_millis(29_001)), "30");
        assert_eq!(
            retry_after_value(Duration::MAX),
            u64::MAX.to_string().as_str()
        );
    }
}
