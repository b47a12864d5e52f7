//! tower `BreakerLayer` over the bare service, per request (the budget,
//! with the measured figures, is in `docs/performance.md`; the admitted path
//! allocates nothing).
//!
//! Every variant is driven the same way, `ready().await` then `call().await`,
//! by a minimal executor that polls with a no-op waker, so the group shows
//! the layer's cost next to the bare `service_fn`.

use std::convert::Infallible;
use std::hint::black_box;

use crate::executor::block_on;
use brownout::{Breaker, BreakerConfig, DegradationManager, FeatureConfig, Level};
use brownout_tower::{BreakerLayer, GateLayer};
use criterion::Criterion;
use tower::{Layer, Service, ServiceExt, service_fn};

/// One request through `svc`, as a tower client sends it.
fn request<S>(svc: &mut S, n: u64) -> Result<u64, S::Error>
where
    S: Service<u64, Response = u64>,
{
    block_on(async { svc.ready().await?.call(n).await })
}

fn bare() -> impl Service<u64, Response = u64, Error = Infallible> + Clone {
    service_fn(|n: u64| async move { Ok::<_, Infallible>(n) })
}

/// The tower paths under the group name `name`; breakers are built here, so
/// they bind to whatever metrics recorder is installed by then.
pub(crate) fn group(c: &mut Criterion, name: &str) {
    let mut group = c.benchmark_group(name);

    let mut svc = bare();
    group.bench_function("bare_service_fn", |b| {
        b.iter(|| black_box(request(&mut svc, black_box(1)).is_ok()));
    });

    let breaker = Breaker::new("bench", BreakerConfig::default()).expect("valid config");
    let mut svc = BreakerLayer::new(breaker.clone()).layer(bare());
    group.bench_function("breaker_layer_closed", |b| {
        b.iter(|| black_box(request(&mut svc, black_box(1)).is_ok()));
    });

    // The same breaker held as `&'static`: no reference count per request.
    let leaked = Breaker::new("bench_static", BreakerConfig::default())
        .expect("valid config")
        .leak();
    let mut svc = BreakerLayer::from_static(leaked).layer(bare());
    group.bench_function("breaker_layer_closed_static", |b| {
        b.iter(|| black_box(request(&mut svc, black_box(1)).is_ok()));
    });

    // The rejection path: no inner call, one boxed `CircuitOpen`.
    let open = Breaker::new("bench_open", BreakerConfig::default()).expect("valid config");
    open.force_open();
    let mut svc = BreakerLayer::new(open).layer(bare());
    group.bench_function("breaker_layer_open", |b| {
        b.iter(|| black_box(request(&mut svc, black_box(1)).is_err()));
    });

    let manager = DegradationManager::builder()
        .feature("bench_feature", FeatureConfig::new(Level::Minimal))
        .build()
        .expect("valid config");
    let gate = GateLayer::feature(&manager, "bench_feature").expect("configured above");
    let mut svc = gate.layer(bare());
    group.bench_function("gate_layer_on", |b| {
        b.iter(|| black_box(request(&mut svc, black_box(1)).is_ok()));
    });

    group.finish();
}
