//! The axum feature middleware, per request, two ways:
//!
//! - `service/*`: the middleware's service (brownout-axum's `GateLayer`)
//!   over a bare axum-style service (`Request` in, `Response` out), next to
//!   that bare service and to a do-nothing layer over it (`MapResponseLayer`
//!   with the identity: what wrapping the service costs at all, since the
//!   wrapper moves the response the inner future returned): what the
//!   middleware itself costs;
//! - `router/*`: one axum `Router` with the same trivial handler on four
//!   routes: bare, behind a do-nothing `route_layer` (`MapRequestLayer`
//!   with the identity: what any route layer costs in axum, which boxes and
//!   clones the layered route per request), behind a `GateLayer` whose
//!   feature is on, and behind one whose feature is off (the shed answer:
//!   `503` problem+json with `Retry-After`).
//!
//! Each request is built and answered in process (no socket), driven by the
//! same inlined no-op-waker executor as the tower group, and the response
//! (headers and body) is dropped.

use std::hint::black_box;

use axum::Router;
use std::convert::Infallible;

use crate::executor::block_on;
use axum::body::Body;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use brownout::DegradationManager;
use brownout_axum::GateLayer;
use criterion::{BatchSize, Criterion};
use tower::util::{MapRequestLayer, MapResponseLayer};
use tower::{Layer, Service, service_fn};

/// The `http_bench` example's configuration: the same two features.
const CONFIG: &str = include_str!("../../examples/examples/http_bench.toml");

async fn ok() -> &'static str {
    "ok\n"
}

/// A `GET path` request.
fn request(path: &'static str) -> Request<Body> {
    Request::get(path)
        .body(Body::empty())
        .expect("a valid request")
}

/// `request` through `svc`; the status code of the answer.
fn status<S>(svc: &mut S, request: Request<Body>) -> u16
where
    S: Service<Request<Body>, Response = Response, Error = Infallible>,
{
    match block_on(svc.call(request)) {
        Ok(response) => response.status().as_u16(),
        Err(never) => match never {},
    }
}

/// Measures `GET path` through `svc`; building the request is left out
/// (criterion's batched setup), so the figure is the service's.
fn bench_path<S>(b: &mut criterion::Bencher<'_>, svc: &mut S, path: &'static str)
where
    S: Service<Request<Body>, Response = Response, Error = Infallible>,
{
    b.iter_batched(
        || request(path),
        |request| status(svc, request),
        BatchSize::SmallInput,
    );
}

/// The bare axum-style service: the trivial handler's answer. Its future
/// owns the request until it answers, as a handler's does.
fn bare()
-> impl Service<Request<Body>, Response = Response, Error = Infallible, Future: Send> + Clone {
    service_fn(|request: Request<Body>| async move {
        let answer = ok().await.into_response();
        drop(black_box(request));
        Ok::<_, Infallible>(answer)
    })
}

/// Registers the `axum_overhead` group.
pub(crate) fn benches(c: &mut Criterion) {
    let manager = DegradationManager::from_toml_str(CONFIG).expect("valid config");
    let down = manager.breaker("down").expect("configured above");
    let _ = down.call_sync(|| Err::<(), _>("down for the benchmark"));
    assert!(manager.is_enabled("on") && !manager.is_enabled("off"));

    let mut group = c.benchmark_group("axum_overhead");
    let mut svc = bare();

    group.bench_function("service/bare", |b| bench_path(b, &mut svc, "/"));
    let mut svc = MapResponseLayer::new(|response: Response| response).layer(bare());
    group.bench_function("service/identity_layer", |b| bench_path(b, &mut svc, "/"));
    let mut svc = GateLayer::feature(&manager, "on")
        .expect("configured above")
        .layer(bare());
    assert_eq!(status(&mut svc, request("/")), 200);
    group.bench_function("service/feature_on", |b| bench_path(b, &mut svc, "/"));
    let mut svc = GateLayer::feature(&manager, "off")
        .expect("configured above")
        .layer(bare());
    assert_eq!(status(&mut svc, request("/")), 503);
    group.bench_function("service/feature_off_shed", |b| bench_path(b, &mut svc, "/"));

    let mut router = Router::new()
        .route("/bare", get(ok))
        .route(
            "/noop",
            get(ok).route_layer(MapRequestLayer::new(|request: Request<Body>| request)),
        )
        .route(
            "/gated",
            get(ok).route_layer(GateLayer::feature(&manager, "on").expect("configured above")),
        )
        .route(
            "/shed",
            get(ok).route_layer(GateLayer::feature(&manager, "off").expect("configured above")),
        );
    assert_eq!(status(&mut router, request("/bare")), 200);
    assert_eq!(status(&mut router, request("/noop")), 200);
    assert_eq!(status(&mut router, request("/gated")), 200);
    assert_eq!(status(&mut router, request("/shed")), 503);
    for (name, path) in [
        ("router/bare_route", "/bare"),
        ("router/identity_route_layer", "/noop"),
        ("router/feature_on", "/gated"),
        ("router/feature_off_shed", "/shed"),
    ] {
        group.bench_function(name, |b| bench_path(b, &mut router, path));
    }
    group.finish();
}
