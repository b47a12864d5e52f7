//! Feature checks: a pre-resolved `FeatureGate` against a bare atomic load,
//! and the by-name lookup against a bare hash-map lookup.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};

use brownout::{DegradationManager, Level};
use criterion::Criterion;

const REFERENCE: &str = include_str!("../../examples/brownout.toml");

pub(crate) fn benches(c: &mut Criterion) {
    let manager = DegradationManager::from_toml_str(REFERENCE).expect("reference config");
    manager.force_level(Level::Degraded, None);
    let gate = manager.gate("ai_suggestions").expect("known feature");
    let flag = AtomicBool::new(true);
    let names: HashMap<String, bool> = manager
        .snapshot()
        .features
        .into_iter()
        .map(|f| (f.name, f.enabled))
        .collect();

    let mut g = c.benchmark_group("gate");
    g.bench_function("handle/bare_atomic_load", |b| {
        b.iter(|| black_box(&flag).load(Ordering::Relaxed))
    });
    g.bench_function("handle/FeatureGate::is_enabled", |b| {
        b.iter(|| black_box(&gate).is_enabled())
    });
    g.bench_function("by_name/bare_std_hashmap", |b| {
        b.iter(|| black_box(&names).get(black_box("supplier_sync")).copied())
    });
    g.bench_function("by_name/is_enabled", |b| {
        b.iter(|| black_box(&manager).is_enabled(black_box("supplier_sync")))
    });
    g.finish();
}
