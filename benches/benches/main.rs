//! The benches of SPEC §11: every brownout path next to its bare baseline,
//! measured in the same run.
//!
//! Run all: `cargo bench -p brownout-benches --bench main`.
//! One group: `cargo bench -p brownout-benches --bench main -- breaker/`.

#![allow(missing_docs)]

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

mod breaker;
mod gate;

/// Short, repeatable settings: the whole suite runs in a few minutes on 2 cores.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = core;
    config = config();
    targets = breaker::benches, gate::benches
}
criterion_main!(core);
