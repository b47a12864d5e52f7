//! Memory stays flat in every long-running shape: a million breakers with
//! distinct names created and dropped (per-host breakers), a million
//! distinct unknown feature names asked for, a million level changes with a
//! listener that cannot keep up.
//!
//! Counting is `allocation-counter`'s, per thread: what the measuring thread
//! allocated and has not freed. CI runs this binary in release mode too
//! (`cargo test --release -p brownout --all-features --test memory`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use allocation_counter::measure;
use brownout::clock::{Clock, MonotonicClock};
use brownout::{Breaker, BreakerConfig, DegradationManager, FeatureConfig, Level};

const MILLION: usize = 1_000_000;

/// The tests of this binary measure one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

#[test]
fn a_million_distinct_breakers_leave_nothing_behind() {
    let _serial = serial();
    let config = BreakerConfig::default();
    // Warm up lazily initialised statics (metrics and tracing call sites).
    drop(Breaker::new("warm-up", config.clone()).unwrap());
    let mut name = String::with_capacity(64);
    let info = measure(|| {
        for i in 0..MILLION {
            name.clear();
            // Long enough to be shared rather than inline.
            name.push_str("api-");
            name.push_str(&i.to_string());
            name.push_str(".payments.eu-west-1.example.com");
            let breaker = Breaker::new(&name, config.clone()).unwrap();
            let _ = breaker.call_sync(|| Err::<(), _>("refused"));
        }
    });
    assert!(
        info.bytes_current < 64 * 1024,
        "a million breakers left {} bytes behind: {info:?}",
        info.bytes_current
    );
    assert!(info.bytes_max < 1 << 20, "peak {} bytes", info.bytes_max);
}

#[test]
fn a_million_unknown_feature_names_cost_bounded_memory() {
    let _serial = serial();
    let manager = DegradationManager::builder()
        .feature("known", FeatureConfig::new(Level::Minimal))
        .build()
        .unwrap();
    let huge = "x".repeat(64 * 1024);
    let mut name = String::with_capacity(huge.len() + 32);
    let info = measure(|| {
        for i in 0..MILLION {
            name.clear();
            name.push_str("typo-");
            name.push_str(&i.to_string());
            if i < 2048 {
                // Long names too: the memory bound is in bytes, not in names.
                name.push_str(&huge);
            }
            assert!(!manager.is_enabled(&name));
        }
    });
    assert!(
        info.bytes_current < 64 * 1024,
        "a million unknown names kept {} bytes: {info:?}",
        info.bytes_current
    );
}

/// One thread's listener is stuck; another thread changes the level a
/// million times. The changing thread never waits for the stuck listener,
/// what waits for listeners stays bounded, subscribers and listeners end
/// on the latest level.
#[test]
fn a_million_level_changes_with_a_stuck_listener_stay_bounded() {
    let _serial = serial();
    let manager = DegradationManager::builder().build().unwrap();
    let stuck = Arc::new(Barrier::new(2));
    let release = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let last = Arc::new(Mutex::new(None));
    {
        let (stuck, release, calls, last) = (
            Arc::clone(&stuck),
            Arc::clone(&release),
            Arc::clone(&calls),
            Arc::clone(&last),
        );
        manager.on_level_change(move |change| {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                stuck.wait(); // the first delivery has started
                while !release.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            *last.lock().unwrap() = Some(change.to);
        });
    }
    #[cfg(feature = "tokio")]
    let subscriber = manager.subscribe();

    // Another thread makes a change and gets stuck delivering it.
    let other = manager.clone();
    let stuck_thread = std::thread::spawn(move || other.force_level(Level::Emergency, None));
    stuck.wait();

    let levels = [Level::Minimal, Level::Limited];
    let mut slowest = Duration::ZERO;
    let info = measure(|| {
        for i in 0..MILLION {
            let started = MonotonicClock.now();
            manager.force_level(levels[i % 2], None);
            slowest = slowest.max(MonotonicClock.now().saturating_since(started));
        }
    });
    assert!(
        slowest < Duration::from_secs(1),
        "a force_level waited {slowest:?} for another thread's listener"
    );
    assert!(
        info.bytes_current < 256 * 1024,
        "queued changes hold {} bytes: {info:?}",
        info.bytes_current
    );
    let latest = levels[(MILLION - 1) % 2];
    assert_eq!(manager.level(), latest);
    #[cfg(feature = "tokio")]
    assert_eq!(
        subscriber.borrow().to,
        latest,
        "subscribers see the latest at once"
    );

    release.store(true, Ordering::SeqCst);
    stuck_thread.join().unwrap();
    let deadline = MonotonicClock.now().saturating_add(Duration::from_secs(30));
    while *last.lock().unwrap() != Some(latest) {
        assert!(
            MonotonicClock.now() < deadline,
            "the latest change never reached the listener"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let delivered = calls.load(Ordering::SeqCst);
    assert!(
        delivered < 1_000,
        "the listener was handed {delivered} changes: old ones are dropped, not queued"
    );
}
