//! The budget benches: every brownout path next to its bare baseline,
//! measured in the same run.
//!
//! Run all: `cargo bench -p brownout-benches --bench main`.
//! One group: `cargo bench -p brownout-benches --bench main -- breaker/`.
//! With a metrics recorder installed: `cargo bench -p brownout-benches
//! --features metrics --bench recorder`. Against the peers: `benches/peers.sh`.

#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main};

mod axum_overhead;
mod breaker;
mod executor;
mod gate;
mod reload;
mod settings;
mod tower_overhead;

fn breaker_benches(c: &mut criterion::Criterion) {
    breaker::group(c, "breaker");
}

fn tower_benches(c: &mut criterion::Criterion) {
    tower_overhead::group(c, "tower_overhead");
}

criterion_group! {
    name = core;
    config = settings::config();
    targets = breaker_benches, gate::benches, tower_benches, axum_overhead::benches, reload::benches
}
criterion_main!(core);
