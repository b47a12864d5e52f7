//! Redis paused with SIGSTOP: the call path does not notice; the fleet
//! heals after SIGCONT. A binary of its own, so no other test competes
//! for the CPU while it measures.

mod common;

use std::time::Duration;

use brownout::{Breaker, FeatureGate, Level};
use brownout_redis::{FleetError, FleetOperator};
use common::{RedisServer, replicas, wait_for};

const SECOND: Duration = Duration::from_secs(1);

/// Times closed `call_sync`s (each with a gate check) for `limit`, at most
/// `calls` of them; returns the sorted call latencies in nanoseconds.
fn measure(breaker: &Breaker, gate: &FeatureGate, limit: Duration, calls: usize) -> Vec<u32> {
    let mut samples = Vec::with_capacity(calls);
    let started = tokio::time::Instant::now();
    while samples.len() < calls && started.elapsed() < limit {
        let start = tokio::time::Instant::now();
        let ok = breaker.call_sync(|| Ok::<_, ()>(())).is_ok();
        let on = gate.is_enabled();
        samples.push(u32::try_from(start.elapsed().as_nanos()).unwrap_or(u32::MAX));
        assert!(ok && on);
        if samples.len() % 1000 == 0 {
            // Steady traffic, not a busy spin: the machine is shared.
            std::thread::sleep(Duration::from_micros(100));
        }
    }
    samples.sort_unstable();
    samples
}

fn at(samples: &[u32], p: f64) -> Duration {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1;
    Duration::from_nanos(u64::from(samples[i]))
}

fn summary(samples: &[u32]) -> String {
    format!(
        "{} calls: p50 {:?}, p99 {:?}, p99.9 {:?}, max {:?}",
        samples.len(),
        at(samples, 0.5),
        at(samples, 0.99),
        at(samples, 0.999),
        at(samples, 1.0)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_path_does_not_wait_for_a_paused_redis() {
    let Some(mut redis) = RedisServer::start("Redis paused") else {
        return;
    };
    let url = redis.url();
    let fleet = replicas(2, |c| c.with_shared_breakers(true), &url, "pause").await;
    let operator = FleetOperator::new(&url, "pause").unwrap();
    wait_for(5 * SECOND, || {
        fleet
            .iter()
            .all(|(_, f)| f.status().live_replicas.len() == 2)
    })
    .await
    .expect("both live");
    let breaker = fleet[0].0.breaker("database").unwrap();
    let gate = fleet[0].0.gate("search").unwrap();

    let (b, g) = (breaker.clone(), gate.clone());
    let baseline = tokio::task::spawn_blocking(move || measure(&b, &g, SECOND, 2_000_000))
        .await
        .unwrap();
    eprintln!("closed call_sync, Redis up:     {}", summary(&baseline));

    redis.pause();
    // Measure while the fleet tasks run into their timeouts and reconnect attempts.
    let (b, g) = (breaker.clone(), gate.clone());
    let during = tokio::task::spawn_blocking(move || measure(&b, &g, 2 * SECOND, 10_000_000));
    let noticed = wait_for(5 * SECOND, || {
        fleet.iter().all(|(_, f)| !f.status().connected)
    })
    .await
    .expect("the replicas notice the pause (command timeout 250 ms)");
    let during = during.await.unwrap();
    eprintln!("closed call_sync, Redis paused: {}", summary(&during));
    eprintln!("the replicas marked Redis unreachable after {noticed:?}");
    let max = at(&during, 1.0);
    assert!(
        max < Duration::from_millis(50),
        "a call waited {max:?}: the call path must never wait for Redis"
    );
    // An operator command gives up within its deadline.
    let start = tokio::time::Instant::now();
    let err = operator
        .force_level(Level::Minimal, SECOND)
        .await
        .unwrap_err();
    assert!(matches!(err, FleetError::Unreachable { .. }), "{err}");
    eprintln!(
        "operator command against the paused Redis failed after {:?}: {err}",
        start.elapsed()
    );
    assert!(start.elapsed() < 5 * SECOND);

    redis.resume();
    let healed = wait_for(10 * SECOND, || {
        fleet.iter().all(|(_, f)| f.status().connected)
    })
    .await
    .expect("heals by itself after SIGCONT");
    eprintln!("reconnected {healed:?} after SIGCONT");
    let start = tokio::time::Instant::now();
    let forced = operator.force_level(Level::Limited, 30 * SECOND).await;
    // The operator's own connection may have been cut by the pause: one retry.
    if forced.is_err() {
        operator
            .force_level(Level::Limited, 30 * SECOND)
            .await
            .unwrap();
    }
    for (manager, _) in &fleet {
        wait_for(2 * SECOND, || manager.level() == Level::Limited)
            .await
            .expect("overrides flow again");
    }
    eprintln!(
        "override after the pause applied everywhere in {:?}",
        start.elapsed()
    );
    for (_, f) in fleet {
        f.shutdown().await;
    }
}
