//! The breaker paths of `breaker.rs` with a real `metrics` recorder installed
//! (the budgets with brownout's `metrics` feature on): group
//! `breaker_with_recorder`, to compare with the `breaker` group of the `main`
//! bench.
//!
//! Run: `cargo bench -p brownout-benches --features metrics --bench recorder`.
//!
//! The recorder is `metrics-exporter-prometheus`'s (atomic counters in a
//! registry, no HTTP listener), installed globally before the breakers are
//! built, since handles bind to the recorder present at build time.

#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

mod breaker;
mod executor;
mod settings;
mod tower_overhead;

fn install_recorder() -> PrometheusHandle {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder)
        .expect("no other global metrics recorder in the bench process");
    handle
}

fn benches(c: &mut Criterion) {
    let handle = install_recorder();
    breaker::group(c, "breaker_with_recorder");
    tower_overhead::group(c, "tower_with_recorder");
    // The recorder really counted the closed breaker's successes; otherwise
    // these would be no-op figures.
    let counted = handle
        .render()
        .lines()
        .filter(|line| line.starts_with("brownout_calls_total{"))
        .filter(|line| line.contains(&format!("dependency=\"{}\"", breaker::CLOSED)))
        .filter(|line| line.contains("outcome=\"success\""))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>();
    assert!(
        counted > 0.0,
        "the recorder counted no successes: is brownout's `metrics` feature on?"
    );
}

criterion_group! {
    name = recorder;
    config = settings::config();
    targets = benches
}
criterion_main!(recorder);
