//! The constant-rate load driver and the per-request recorder.
//!
//! Open loop: request `i` is sent at `start + i / rate` whatever happened to
//! the earlier ones, so a slow service gathers requests in flight instead of
//! being sent fewer (no coordinated omission). Every request is recorded with
//! when it was sent, how long it took and how it was answered.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// A route of the mix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Route {
    /// Its name in reports.
    pub(crate) name: &'static str,
    /// Share of the requests, in percent.
    pub(crate) weight: u32,
    /// The longest the service may take by its dependencies' call timeouts.
    pub(crate) timeout: Duration,
    /// Whether a feature gate (or the level) may shed it.
    pub(crate) gated: bool,
}

/// The route mix (weights add up to 100).
pub(crate) const ROUTES: [Route; 7] = [
    Route {
        name: "stock",
        weight: 50,
        timeout: Duration::from_millis(2250),
        gated: false,
    },
    Route {
        name: "stores",
        weight: 5,
        timeout: Duration::ZERO,
        gated: false,
    },
    Route {
        name: "search",
        weight: 10,
        timeout: Duration::from_millis(2250),
        gated: true,
    },
    Route {
        name: "orders",
        weight: 10,
        timeout: Duration::from_secs(2),
        gated: true,
    },
    Route {
        name: "suggestions",
        weight: 10,
        timeout: Duration::from_secs(10),
        gated: true,
    },
    Route {
        name: "images",
        weight: 10,
        timeout: Duration::from_secs(5),
        gated: true,
    },
    Route {
        name: "dashboard",
        weight: 5,
        timeout: Duration::from_secs(2),
        gated: true,
    },
];

const QUERIES: [&str; 10] = [
    "red", "blue", "green", "black", "white", "chair", "table", "lamp", "shelf", "rug",
];

/// How a request was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// 2xx.
    Ok,
    /// 503; `problem` says whether it was problem+json with a Retry-After.
    Unavailable { problem: bool },
    /// Any other status.
    Status(u16),
    /// No HTTP answer (connection refused or reset, or the client's own
    /// timeout).
    Transport,
}

/// One request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    /// Index into [`ROUTES`].
    pub(crate) route: usize,
    /// When it was sent, since the start of the run.
    pub(crate) sent: Duration,
    /// How long until the whole answer was read.
    pub(crate) latency: Duration,
    /// How it was answered.
    pub(crate) answer: Answer,
    /// The request number (the order's idempotency key is `run-n`).
    pub(crate) n: u64,
}

/// A level poll of `/health`.
#[derive(Debug, Clone)]
pub(crate) struct LevelPoll {
    /// When, since the start of the run.
    pub(crate) at: Duration,
    /// The level (`None` without brownout or when `/health` did not answer).
    pub(crate) level: Option<String>,
    /// The health score.
    pub(crate) score: Option<f64>,
}

/// What one run recorded.
#[derive(Debug, Default)]
pub(crate) struct Recording {
    /// Every request.
    pub(crate) samples: Vec<Sample>,
    /// `/health` every 250 ms.
    pub(crate) levels: Vec<LevelPoll>,
    /// Requests in flight, once a second (index = second).
    pub(crate) in_flight: Vec<i64>,
}

/// The HTTP client of the driver.
pub(crate) type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A client with room for many connections at once.
pub(crate) fn client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(Duration::from_secs(2)));
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(512)
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector)
}

/// Sends one request; returns the status, headers and body, or `None`
/// without an HTTP answer within `limit`.
pub(crate) async fn send(
    client: &HttpClient,
    request: http::Request<Full<Bytes>>,
    limit: Duration,
) -> Option<(http::StatusCode, http::HeaderMap, Bytes)> {
    let call = async {
        let response = client.request(request).await.ok()?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.ok()?.to_bytes();
        Some((parts.status, parts.headers, body))
    };
    tokio::time::timeout(limit, call).await.ok().flatten()
}

/// GET `url` and parse the body as JSON.
pub(crate) async fn get_json(client: &HttpClient, url: &str) -> Option<serde_json::Value> {
    let request = http::Request::get(url).body(Full::new(Bytes::new())).ok()?;
    let (_, _, body) = send(client, request, Duration::from_secs(2)).await?;
    serde_json::from_slice(&body).ok()
}

/// The route of request `n`: a smooth weighted round-robin over [`ROUTES`],
/// so every second sees the same mix.
fn schedule() -> Vec<usize> {
    let total: i64 = ROUTES.iter().map(|r| i64::from(r.weight)).sum();
    let mut current = [0i64; ROUTES.len()];
    let mut order = Vec::with_capacity(usize::try_from(total).unwrap_or(100));
    for _ in 0..total {
        let mut best = 0;
        for (i, route) in ROUTES.iter().enumerate() {
            current[i] += i64::from(route.weight);
            if current[i] > current[best] {
                best = i;
            }
        }
        current[best] -= total;
        order.push(best);
    }
    order
}

/// A cheap well-spread hash (splitmix64).
fn mix(n: u64) -> u64 {
    let mut x = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn build_request(
    base: &str,
    route: usize,
    n: u64,
    run: &str,
    skus: u64,
) -> Option<http::Request<Full<Bytes>>> {
    let sku = mix(n) % skus + 1;
    let get = |path: String| {
        http::Request::get(format!("{base}{path}"))
            .body(Full::new(Bytes::new()))
            .ok()
    };
    match ROUTES.get(route)?.name {
        "stock" => get(format!("/stock/{sku}")),
        "stores" => get("/stores".to_owned()),
        "search" => get(format!(
            "/search?q={}",
            QUERIES.get(usize::try_from(mix(n) % 10).ok()?)?
        )),
        "orders" => http::Request::post(format!("{base}/orders"))
            .header("content-type", "application/json")
            .header("idempotency-key", format!("{run}-{n}"))
            .body(Full::new(Bytes::from(format!(
                "{{\"sku\": {sku}, \"qty\": 1}}"
            ))))
            .ok(),
        "suggestions" => get(format!("/suggestions/{sku}")),
        "images" => get(format!("/images/{sku}")),
        "dashboard" => get("/dashboard".to_owned()),
        _ => None,
    }
}

fn classify(status: http::StatusCode, headers: &http::HeaderMap, body: &[u8]) -> Answer {
    if status.is_success() {
        Answer::Ok
    } else if status == http::StatusCode::SERVICE_UNAVAILABLE {
        let json = headers
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes() == b"application/problem+json");
        let retry = headers
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|secs| secs >= 1);
        let parses = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .is_some_and(|v| v.get("status").and_then(serde_json::Value::as_u64) == Some(503));
        Answer::Unavailable {
            problem: json && retry && parses,
        }
    } else {
        Answer::Status(status.as_u16())
    }
}

/// The plan of one load run.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// `http://127.0.0.1:port`.
    pub(crate) base: String,
    /// Requests per second.
    pub(crate) rate: u32,
    /// How long requests are sent.
    pub(crate) duration: Duration,
    /// A prefix for idempotency keys, unique per run.
    pub(crate) run: String,
    /// How many SKUs the service seeded.
    pub(crate) skus: u64,
    /// The client's own limit per request (well above every route timeout).
    pub(crate) request_limit: Duration,
    /// Poll `/health` for the level.
    pub(crate) poll_level: bool,
}

/// Runs the plan; returns once every request has been answered (or hit the
/// client's limit). `start` is the run's time zero.
pub(crate) async fn drive(plan: Plan, start: Instant) -> Recording {
    let client = client();
    let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
    let in_flight = Arc::new(AtomicI64::new(0));
    let order = schedule();
    let total = u64::from(plan.rate) * plan.duration.as_secs();
    let stop = start + plan.duration;

    // Level poller and in-flight sampler.
    let poller = {
        let client = client.clone();
        let base = plan.base.clone();
        let in_flight = Arc::clone(&in_flight);
        let poll_level = plan.poll_level;
        tokio::spawn(async move {
            let mut levels = Vec::new();
            let mut inflight = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut i: u64 = 0;
            loop {
                tick.tick().await;
                let now = Instant::now();
                if now >= stop + Duration::from_millis(300) {
                    break;
                }
                if i.is_multiple_of(4) {
                    inflight.push(in_flight.load(Ordering::Relaxed));
                }
                i += 1;
                if poll_level {
                    let at = now.saturating_duration_since(start);
                    let health = get_json(&client, &format!("{base}/health")).await;
                    levels.push(LevelPoll {
                        at,
                        level: health
                            .as_ref()
                            .and_then(|h| h.get("level"))
                            .and_then(|l| l.as_str())
                            .map(str::to_owned),
                        score: health
                            .as_ref()
                            .and_then(|h| h.get("score"))
                            .and_then(serde_json::Value::as_f64),
                    });
                }
            }
            (levels, inflight)
        })
    };

    let mut tasks = tokio::task::JoinSet::new();
    let period = Duration::from_secs(1) / plan.rate.max(1);
    for n in 0..total {
        let due = start + period * u32::try_from(n).unwrap_or(u32::MAX);
        tokio::time::sleep_until(due.into()).await;
        let route = order[usize::try_from(n).unwrap_or(0) % order.len()];
        let Some(request) = build_request(&plan.base, route, n, &plan.run, plan.skus) else {
            continue;
        };
        let client = client.clone();
        let samples = Arc::clone(&samples);
        let in_flight = Arc::clone(&in_flight);
        let limit = plan.request_limit;
        tasks.spawn(async move {
            in_flight.fetch_add(1, Ordering::Relaxed);
            let sent = Instant::now();
            let answer = match send(&client, request, limit).await {
                Some((status, headers, body)) => classify(status, &headers, &body),
                None => Answer::Transport,
            };
            let latency = sent.elapsed();
            in_flight.fetch_sub(1, Ordering::Relaxed);
            let sample = Sample {
                route,
                sent: sent.saturating_duration_since(start),
                latency,
                answer,
                n,
            };
            samples
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(sample);
        });
        // Reap finished tasks so the set stays small.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let (levels, in_flight) = poller.await.unwrap_or_default();
    let mut samples = std::mem::take(&mut *samples.lock().unwrap_or_else(PoisonError::into_inner));
    samples.sort_by_key(|s| s.n);
    Recording {
        samples,
        levels,
        in_flight,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_follows_the_weights() {
        let order = schedule();
        assert_eq!(order.len(), 100);
        for (i, route) in ROUTES.iter().enumerate() {
            let count = order.iter().filter(|&&r| r == i).count();
            assert_eq!(count, route.weight as usize, "{}", route.name);
        }
        // Smooth: the heaviest route never runs more than twice in a row.
        assert!(order.windows(3).all(|w| !(w[0] == w[1] && w[1] == w[2])));
    }

    #[test]
    fn a_503_counts_as_problem_only_with_json_and_retry_after() {
        let mut headers = http::HeaderMap::new();
        let body = br#"{"status": 503, "title": "x"}"#;
        let unavailable = http::StatusCode::SERVICE_UNAVAILABLE;
        assert_eq!(
            classify(unavailable, &headers, body),
            Answer::Unavailable { problem: false }
        );
        headers.insert(
            "content-type",
            "application/problem+json".parse().expect("header"),
        );
        headers.insert("retry-after", "3".parse().expect("header"));
        assert_eq!(
            classify(unavailable, &headers, body),
            Answer::Unavailable { problem: true }
        );
        assert_eq!(classify(http::StatusCode::OK, &headers, b""), Answer::Ok);
        assert_eq!(
            classify(http::StatusCode::BAD_GATEWAY, &headers, b""),
            Answer::Status(502)
        );
    }

    #[test]
    fn requests_name_their_route_and_key() {
        let order = build_request("http://h", 3, 7, "run", 10).expect("a request");
        assert_eq!(order.method(), http::Method::POST);
        assert_eq!(order.headers()["idempotency-key"], "run-7");
        let stock = build_request("http://h", 0, 7, "run", 10).expect("a request");
        assert!(stock.uri().path().starts_with("/stock/"));
        assert!(build_request("http://h", 99, 7, "run", 10).is_none());
    }
}
