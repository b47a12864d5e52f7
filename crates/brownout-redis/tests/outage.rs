//! Redis killed, restarted, gone while an override expires.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use brownout::Level;
use brownout_redis::{Fleet, FleetOperator};
use common::{RedisServer, replicas, wait_for};

const SECOND: Duration = Duration::from_secs(1);

/// Calls a closed breaker in a loop on a thread of its own until stopped;
/// counts calls and errors, and keeps the slowest call in microseconds.
struct SteadyCalls {
    stop: Arc<AtomicBool>,
    calls: Arc<AtomicU64>,
    errors: Arc<AtomicU64>,
    slowest_us: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SteadyCalls {
    fn start(breaker: brownout::Breaker) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let calls = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let slowest_us = Arc::new(AtomicU64::new(0));
        let (s, c, e, w) = (
            Arc::clone(&stop),
            Arc::clone(&calls),
            Arc::clone(&errors),
            Arc::clone(&slowest_us),
        );
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let start = tokio::time::Instant::now();
                if breaker.call_sync(|| Ok::<_, ()>(())).is_err() {
                    e.fetch_add(1, Ordering::Relaxed);
                }
                let took = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
                w.fetch_max(took, Ordering::Relaxed);
                c.fetch_add(1, Ordering::Relaxed);
                // Steady, not a busy spin: the machine is shared.
                if c.load(Ordering::Relaxed) % 1000 == 0 {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        });
        SteadyCalls {
            stop,
            calls,
            errors,
            slowest_us,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> (u64, u64, Duration) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        (
            self.calls.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed),
            Duration::from_micros(self.slowest_us.load(Ordering::Relaxed)),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_heals_and_the_override_is_read_again() {
    let Some(mut redis) = RedisServer::start_persistent("redis killed and restarted") else {
        return;
    };
    let url = redis.url();
    let fleet = replicas(2, |c| c.with_shared_breakers(true), &url, "kill").await;
    let steady = SteadyCalls::start(fleet[0].0.breaker("database").unwrap());
    let operator = FleetOperator::new(&url, "kill").unwrap();
    operator
        .force_level(Level::Limited, 120 * SECOND)
        .await
        .unwrap();
    for (manager, _) in &fleet {
        wait_for(2 * SECOND, || manager.level() == Level::Limited)
            .await
            .expect("applied");
    }

    redis.kill();
    let noticed = wait_for(5 * SECOND, || {
        fleet.iter().all(|(_, f)| !f.status().connected)
    })
    .await
    .expect("every replica notices");
    eprintln!("SIGKILL noticed after {noticed:?}");
    // Nothing local is lost: the override stays until its TTL, breakers keep their state.
    for (manager, f) in &fleet {
        assert_eq!(manager.level(), Level::Limited);
        let status = f.status();
        assert!(status.last_error.is_some());
        assert!(status.fleet_override.expect("still known").in_force);
    }
    // Operator commands fail fast with a typed error, no hang.
    let err = operator
        .force_level(Level::Minimal, SECOND)
        .await
        .unwrap_err();
    assert!(
        matches!(err, brownout_redis::FleetError::Unreachable { .. }),
        "{err}"
    );

    // A replica that starts while Redis is down runs on its own view.
    let late_manager = common::manager();
    let late = Fleet::start(&late_manager, common::config(&url, "kill", "late"))
        .await
        .expect("retry is the default");
    assert!(!late.status().connected);
    assert_eq!(late_manager.level(), Level::Optimal);

    redis.restart();
    let healed = wait_for(10 * SECOND, || {
        fleet.iter().all(|(_, f)| f.status().connected) && late.status().connected
    })
    .await
    .expect("every replica reconnects by itself");
    // The restarted Redis replayed its append-only file: the late joiner
    // reads the override that was set before the kill.
    wait_for(2 * SECOND, || late_manager.level() == Level::Limited)
        .await
        .expect("the override is read again");
    eprintln!("reconnected {healed:?} after the restart");
    wait_for(3 * SECOND, || fleet[0].1.status().live_replicas.len() == 3)
        .await
        .expect("heartbeats are back");

    // And the fleet works again: a clear reaches everyone.
    operator.clear_override().await.unwrap();
    for manager in fleet.iter().map(|(m, _)| m).chain([&late_manager]) {
        wait_for(2 * SECOND, || manager.override_level().is_none())
            .await
            .expect("cleared");
    }
    let (calls, errors, slowest) = steady.finish();
    eprintln!(
        "steady calls through the kill and restart: {calls} calls, {errors} errors, slowest {slowest:?}"
    );
    assert_eq!(errors, 0);
    assert!(calls > 1000);
    late.shutdown().await;
    for (_, f) in fleet {
        f.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_override_expires_on_time_while_redis_is_down() {
    let Some(mut redis) = RedisServer::start("override TTL while Redis is down") else {
        return;
    };
    let fleet = replicas(2, |c| c, &redis.url(), "ttl").await;
    let operator = FleetOperator::new(&redis.url(), "ttl").unwrap();
    let ttl = Duration::from_millis(2500);
    let set_at = tokio::time::Instant::now();
    operator.force_level(Level::Minimal, ttl).await.unwrap();
    for (manager, _) in &fleet {
        wait_for(2 * SECOND, || manager.level() == Level::Minimal)
            .await
            .expect("applied");
    }
    redis.kill();
    wait_for(5 * SECOND, || {
        fleet.iter().all(|(_, f)| !f.status().connected)
    })
    .await
    .expect("disconnected");
    for (manager, _) in &fleet {
        wait_for(10 * SECOND, || manager.override_level().is_none())
            .await
            .expect("the override expires without Redis");
        let after = set_at.elapsed();
        eprintln!("override with TTL {ttl:?} dropped {after:?} after it was set (Redis down)");
        assert!(
            after >= ttl - Duration::from_millis(100),
            "not early: {after:?}"
        );
        assert_eq!(manager.level(), Level::Optimal);
    }
    for (_, f) in &fleet {
        assert!(f.status().fleet_override.is_none());
    }
    for (_, f) in fleet {
        f.shutdown().await;
    }
}
