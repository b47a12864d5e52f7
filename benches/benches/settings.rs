//! Criterion settings shared by the bench entries: short and repeatable, so
//! every suite runs in a few minutes on 2 cores.

use std::time::Duration;

use criterion::Criterion;

pub(crate) fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}
