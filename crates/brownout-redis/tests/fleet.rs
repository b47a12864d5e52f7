//! Several replicas (managers with their own clocks, each with its own
//! Fleet task and Redis connection) against a real redis-server.

mod common;

use std::time::Duration;

use brownout::{BreakerState, Level, TripCause};
use brownout_redis::{
    DecisionAction, Fleet, FleetConfig, FleetError, FleetOperator, OnUnreachable,
};
use common::{RedisServer, fail, percentile, replicas, wait_for};

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_override_reaches_every_replica_within_a_second() {
    let Some(redis) = RedisServer::start("override propagation") else {
        return;
    };
    let fleet = replicas(3, |c| c, &redis.url(), "prop").await;
    let operator = FleetOperator::new(&redis.url(), "prop")
        .unwrap()
        .with_name("ops");
    wait_for(5 * SECOND, || {
        fleet.iter().all(|(_, f)| f.status().connected)
    })
    .await
    .expect("connected");

    let levels = [
        Level::Limited,
        Level::Minimal,
        Level::Degraded,
        Level::Emergency,
    ];
    let mut samples = Vec::new();
    for round in 0..50 {
        let level = levels[round % levels.len()];
        let start = tokio::time::Instant::now();
        operator.force_level(level, 60 * SECOND).await.unwrap();
        for (manager, _) in &fleet {
            wait_for(5 * SECOND, || manager.level() == level)
                .await
                .unwrap_or_else(|| panic!("round {round}: {level} not applied"));
            samples.push(start.elapsed());
        }
    }
    let p50 = percentile(&mut samples, 50.0);
    let p99 = percentile(&mut samples, 99.0);
    let max = percentile(&mut samples, 100.0);
    eprintln!(
        "override propagation over {} samples (50 overrides x 3 replicas): p50 {p50:?}, p99 {p99:?}, max {max:?}",
        samples.len()
    );
    assert!(p99 < SECOND, "p99 {p99:?}");

    // Every replica shows it as the fleet's, in force.
    let status = fleet[1].1.status();
    let shown = status.fleet_override.expect("an override");
    assert_eq!(shown.level, levels[49 % levels.len()]);
    assert_eq!(shown.set_by, "ops");
    assert!(shown.in_force);
    assert!(shown.expires_in.unwrap() > 50 * SECOND);
    assert_eq!(
        fleet[1].0.snapshot().override_level.unwrap().level,
        levels[49 % levels.len()]
    );

    // Cleared: every replica goes back to its computed level.
    let start = tokio::time::Instant::now();
    let cleared = operator
        .clear_override()
        .await
        .unwrap()
        .expect("one to clear");
    assert_eq!(cleared.level, levels[49 % levels.len()]);
    for (manager, _) in &fleet {
        wait_for(5 * SECOND, || manager.override_level().is_none())
            .await
            .expect("cleared everywhere");
    }
    eprintln!("clear propagation: {:?}", start.elapsed());
    assert!(start.elapsed() < SECOND);
    assert_eq!(
        operator.clear_override().await.unwrap(),
        None,
        "nothing left"
    );
    for (_, f) in fleet {
        f.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_joiners_see_the_override_and_local_overrides_are_not_clobbered() {
    let Some(redis) = RedisServer::start("late joiner and precedence") else {
        return;
    };
    let url = redis.url();
    let mut fleet = replicas(2, |c| c, &url, "late").await;
    // An override through a replica's own handle.
    fleet[0]
        .1
        .force_level(Level::Limited, 30 * SECOND)
        .await
        .unwrap();
    for (manager, _) in &fleet {
        wait_for(2 * SECOND, || manager.level() == Level::Limited)
            .await
            .expect("applied");
    }

    // A replica that starts later reads it from the key, with the time left.
    let manager = common::manager();
    let late = Fleet::start(&manager, common::config(&url, "late", "late"))
        .await
        .unwrap();
    wait_for(2 * SECOND, || manager.level() == Level::Limited)
        .await
        .expect("the late joiner applies the override");
    let left = manager
        .snapshot()
        .override_level
        .unwrap()
        .expires_in
        .unwrap();
    assert!(left <= 30 * SECOND && left > 20 * SECOND, "{left:?}");
    fleet.push((manager, late));

    // A local operator overrides replica 1 after the fleet did: the
    // newest instruction wins there, and clearing the fleet's override
    // leaves the local one alone.
    fleet[1].0.force_level(Level::Minimal, None);
    wait_for(2 * SECOND, || {
        !fleet[1].1.status().fleet_override.unwrap().in_force
    })
    .await
    .expect("the status says the fleet's override is no longer in force here");
    fleet[0].1.clear_override().await.unwrap();
    wait_for(2 * SECOND, || fleet[0].0.override_level().is_none())
        .await
        .expect("cleared on replica 0");
    wait_for(2 * SECOND, || fleet[2].0.override_level().is_none())
        .await
        .expect("cleared on the late joiner");
    assert_eq!(
        fleet[1].0.override_level(),
        Some(Level::Minimal),
        "local kept"
    );

    // A new fleet override is newer than the local one: it applies.
    fleet[0]
        .1
        .force_level(Level::Degraded, 30 * SECOND)
        .await
        .unwrap();
    wait_for(2 * SECOND, || fleet[1].0.level() == Level::Degraded)
        .await
        .expect("newest wins");

    // Zero TTL is refused; nothing is written.
    assert!(matches!(
        fleet[0].1.force_level(Level::Minimal, Duration::ZERO).await,
        Err(FleetError::InvalidTtl(_))
    ));
    for (_, f) in fleet {
        f.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quorum_opens_the_others_breakers_within_a_second() {
    let Some(redis) = RedisServer::start("quorum propagation") else {
        return;
    };
    let fleet = replicas(
        4,
        |c| c.with_shared_breakers(true).with_quorum(0.5, 2),
        &redis.url(),
        "quorum",
    )
    .await;
    let everyone_sees_all_closed = || {
        fleet.iter().all(|(_, f)| {
            let status = f.status();
            status.live_replicas.len() == 4
                && status.live_replicas.iter().all(|r| {
                    r.breakers.len() == 2
                        && r.breakers
                            .values()
                            .all(|s| *s == brownout_redis::ReportedState::Closed)
                })
        })
    };
    wait_for(5 * SECOND, everyone_sees_all_closed)
        .await
        .expect("4 live replicas, all closed");

    let mut samples = Vec::new();
    for round in 0..15 {
        // Replicas 0 and 1 see the database fail: 2 of 4 is the quorum.
        fail(&fleet[0].0, "database");
        let start = tokio::time::Instant::now();
        fail(&fleet[1].0, "database");
        for (manager, _) in &fleet[2..] {
            let breaker = manager.breaker("database").unwrap();
            wait_for(5 * SECOND, || breaker.state() == BreakerState::Open)
                .await
                .unwrap_or_else(|| panic!("round {round}: the quorum did not open it"));
            samples.push(start.elapsed());
            assert_eq!(
                breaker.snapshot().last_trip.unwrap().cause,
                TripCause::Peers
            );
            assert_eq!(
                manager.breaker("openai").unwrap().state(),
                BreakerState::Closed
            );
        }
        // The decision, with why.
        let status = fleet[2].1.status();
        let decision = status
            .decisions
            .iter()
            .find(|d| d.action == DecisionAction::Tripped)
            .expect("a trip decision");
        assert_eq!(decision.dependency, "database");
        assert_eq!(decision.replicas_open, ["r0", "r1"]);
        assert_eq!(decision.replicas_live, 4);

        // Recovery is local: the sources recover, the quorum is released,
        // and the followers' breakers stay open until their own recovery.
        fleet[0].0.breaker("database").unwrap().reset();
        fleet[1].0.breaker("database").unwrap().reset();
        for (_, f) in &fleet[2..] {
            wait_for(5 * SECOND, || {
                f.status()
                    .decisions
                    .first()
                    .is_some_and(|d| d.action == DecisionAction::Released)
            })
            .await
            .expect("released");
        }
        for (manager, _) in &fleet[2..] {
            assert_eq!(
                manager.breaker("database").unwrap().state(),
                BreakerState::Open,
                "never forced closed"
            );
            manager.breaker("database").unwrap().reset();
        }
        if wait_for(5 * SECOND, everyone_sees_all_closed)
            .await
            .is_none()
        {
            for (_, f) in &fleet {
                eprintln!("{}", serde_json::to_string(&f.status()).unwrap());
            }
            panic!("round {round}: not all closed again");
        }
    }
    let p50 = percentile(&mut samples, 50.0);
    let p99 = percentile(&mut samples, 99.0);
    eprintln!(
        "quorum propagation over {} samples (15 rounds x 2 followers): p50 {p50:?}, p99 {p99:?}",
        samples.len()
    );
    assert!(p99 < SECOND, "p99 {p99:?}");
    let json = serde_json::to_value(fleet[3].1.status()).unwrap();
    assert_eq!(json["decisions"][0]["action"]["kind"], "released");
    assert!(json["decisions"][1]["ago_ms"].is_u64());
    for (_, f) in fleet {
        f.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bad_replica_does_not_poison_the_rest() {
    let Some(redis) = RedisServer::start("one bad replica") else {
        return;
    };
    // A share of 0.3 alone would be met by one replica of three:
    // min_replicas = 2 is what holds.
    let fleet = replicas(
        3,
        |c| c.with_shared_breakers(true).with_quorum(0.3, 2),
        &redis.url(),
        "bad",
    )
    .await;
    wait_for(5 * SECOND, || {
        fleet
            .iter()
            .all(|(_, f)| f.status().live_replicas.len() == 3)
    })
    .await
    .expect("3 live");
    fail(&fleet[0].0, "database");
    for (_, f) in &fleet[1..] {
        wait_for(5 * SECOND, || {
            f.status()
                .live_replicas
                .iter()
                .any(|r| r.id == "r0" && r.open() == ["database"])
        })
        .await
        .expect("the others see r0's report");
    }
    // A few more reads of the same reports: still no quorum.
    tokio::time::sleep(SECOND).await;
    for (manager, f) in &fleet[1..] {
        assert_eq!(
            manager.breaker("database").unwrap().state(),
            BreakerState::Closed
        );
        assert!(f.status().decisions.is_empty());
        assert_eq!(manager.level(), Level::Optimal);
    }
    for (_, f) in fleet {
        f.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_dies_without_goodbye_stops_counting() {
    let Some(redis) = RedisServer::start("replica dies") else {
        return;
    };
    let url = redis.url();
    let shared = |c: FleetConfig| c.with_shared_breakers(true).with_quorum(0.5, 2);
    // r0 lives on a runtime of its own, so it can die without a goodbye.
    let url0 = url.clone();
    let (runtime, doomed_manager, doomed) = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let manager = common::manager();
        let fleet = runtime
            .block_on(Fleet::start(
                &manager,
                shared(common::config(&url0, "dies", "r0")),
            ))
            .unwrap();
        (runtime, manager, fleet)
    })
    .join()
    .unwrap();
    let mut fleet = Vec::new();
    for id in ["r1", "r2", "r3"] {
        let manager = common::manager();
        let f = Fleet::start(&manager, shared(common::config(&url, "dies", id)))
            .await
            .unwrap();
        fleet.push((manager, f));
    }
    wait_for(5 * SECOND, || {
        fleet
            .iter()
            .all(|(_, f)| f.status().live_replicas.len() == 4)
    })
    .await
    .expect("4 live");

    // r0 reports the database open (1 of 4: no quorum), then dies.
    fail(&doomed_manager, "database");
    for (_, f) in &fleet {
        wait_for(5 * SECOND, || {
            f.status()
                .live_replicas
                .iter()
                .any(|r| r.id == "r0" && r.open() == ["database"])
        })
        .await
        .expect("r0's report seen");
    }
    // Its runtime stops: the task is dropped mid-flight, no goodbye. The
    // handle is kept until the end, so not even a stop signal is sent.
    runtime.shutdown_background();
    let gone = wait_for(5 * SECOND, || {
        fleet
            .iter()
            .all(|(_, f)| f.status().live_replicas.len() == 3)
    })
    .await
    .expect("r0's heartbeat expires");
    eprintln!("a dead replica stopped counting after {gone:?} (heartbeat TTL 600 ms)");

    // r1 now reports it open too: with r0 still counted that would be
    // 2 of 4, a quorum; without it, 1 of 3 is not.
    fail(&fleet[0].0, "database");
    for (_, f) in &fleet[1..] {
        wait_for(5 * SECOND, || {
            f.status()
                .live_replicas
                .iter()
                .any(|r| r.id == "r1" && r.open() == ["database"])
        })
        .await
        .expect("r1's report seen");
    }
    tokio::time::sleep(SECOND).await;
    for (manager, _) in &fleet[1..] {
        assert_eq!(
            manager.breaker("database").unwrap().state(),
            BreakerState::Closed
        );
    }
    for (_, f) in fleet {
        f.shutdown().await;
    }
    drop(doomed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_errors_are_typed_and_retry_heals() {
    let manager = common::manager();
    // A bad URL: a typed error, no panic.
    let err = Fleet::start(&manager, FleetConfig::new("http://example/"))
        .await
        .unwrap_err();
    assert!(matches!(err, FleetError::InvalidUrl { .. }), "{err}");
    let err = Fleet::start(&manager, FleetConfig::new("rediss://127.0.0.1/"))
        .await
        .unwrap_err();
    assert!(matches!(err, FleetError::InvalidUrl { .. }), "{err}");
    let err = Fleet::start(
        &manager,
        FleetConfig::new("redis://127.0.0.1/").with_quorum(2.0, 1),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, FleetError::Config(_)), "{err}");

    // Nothing listens: fail is an error, retry starts anyway.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://user:secret@127.0.0.1:{port}/");
    let err = Fleet::start(
        &manager,
        FleetConfig::new(&url).with_on_unreachable(OnUnreachable::Fail),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, FleetError::Unreachable { .. }), "{err}");
    assert!(!err.to_string().contains("secret"), "{err}");
    let fleet = Fleet::start(&manager, FleetConfig::new(&url))
        .await
        .unwrap();
    let status = fleet.status();
    assert!(!status.connected);
    assert!(status.last_error.is_some());
    assert_eq!(status.live_replicas.len(), 1);
    fleet.shutdown().await;

    // Retry heals once Redis is there.
    let Some(redis) = RedisServer::start("retry heals") else {
        return;
    };
    let late_url = redis.url();
    drop(redis);
    let fleet = Fleet::start(&manager, common::config(&late_url, "retry", "r0"))
        .await
        .unwrap();
    assert!(!fleet.status().connected);
    let port: u16 = late_url
        .trim_start_matches("redis://127.0.0.1:")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let _server = RedisServer::start_on("retry heals", port);
    let healed = wait_for(10 * SECOND, || fleet.status().connected)
        .await
        .expect("reconnects by itself");
    eprintln!("connected {healed:?} after redis-server came up");
    fleet.shutdown().await;
}
