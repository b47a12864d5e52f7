//! What a live reload costs the call path: the closed call, a feature gate
//! and `is_enabled(&str)`, quiet and with another thread reloading the
//! configuration in a loop (weights, and the called breaker's own
//! settings, so every reload retunes it and swaps the manager's topology).

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

use brownout::{Config, DegradationManager};
use criterion::Criterion;

const CONFIG: &str = r#"
    [dependencies.openai]
    weight = 50
    [dependencies.database]
    weight = 30
    failure_threshold = 3
    [features.search]
    min_level = "LIMITED"
    requires = ["database"]
"#;

fn work() -> Result<u64, &'static str> {
    Ok(black_box(42))
}

/// Reloads two configurations in turn until stopped; counts the reloads.
struct Reloader {
    stop: Arc<AtomicBool>,
    reloads: Arc<AtomicU64>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Reloader {
    fn start(manager: &DegradationManager) -> Reloader {
        let configs = [
            Config::from_toml_str(CONFIG).expect("valid"),
            Config::from_toml_str(
                &CONFIG
                    .replace("weight = 50", "weight = 40")
                    .replace("failure_threshold = 3", "failure_threshold = 4"),
            )
            .expect("valid"),
        ];
        let stop = Arc::new(AtomicBool::new(false));
        let reloads = Arc::new(AtomicU64::new(0));
        let thread = {
            let (manager, stop, reloads) =
                (manager.clone(), Arc::clone(&stop), Arc::clone(&reloads));
            thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    manager
                        .reconfigure(configs[i % 2].clone())
                        .expect("valid config");
                    reloads.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        };
        Reloader {
            stop,
            reloads,
            thread: Some(thread),
        }
    }
}

impl Drop for Reloader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        eprintln!(
            "reload: {} reloads ran beside the calls",
            self.reloads.load(Ordering::Relaxed)
        );
    }
}

fn paths(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    manager: &DegradationManager,
    mode: &str,
) {
    let database = manager.breaker("database").expect("configured");
    let search = manager.gate("search").expect("configured");
    g.bench_function(format!("closed_success/call_sync/{mode}"), |b| {
        b.iter(|| database.call_sync(work))
    });
    g.bench_function(format!("feature_gate/{mode}"), |b| {
        b.iter(|| black_box(&search).is_enabled())
    });
    g.bench_function(format!("is_enabled_str/{mode}"), |b| {
        b.iter(|| manager.is_enabled(black_box("search")))
    });
}

pub(crate) fn benches(c: &mut Criterion) {
    let manager = DegradationManager::from_toml_str(CONFIG).expect("valid config");
    let mut g = c.benchmark_group("reload");
    g.bench_function("closed_success/bare", |b| b.iter(work));
    paths(&mut g, &manager, "quiet");
    {
        let _reloading = Reloader::start(&manager);
        paths(&mut g, &manager, "reloading");
    }
    g.finish();
}
