//! The service on real PostgreSQL and Redis. Skipped, with a message, when
//! they are not reachable: set `REFERENCE_TEST_PG` (a libpq `key=value`
//! string for a server where the user may create a database; default
//! `host=127.0.0.1 port=5432 user=postgres dbname=postgres`) and
//! `REFERENCE_TEST_REDIS` (default `redis://127.0.0.1:6379/15`). The test
//! works in its own database, `brownout_reference_test`, and Redis database
//! 15 by default.

// Wall-clock time is what a service and a load harness measure; there is
// no ManualClock to inject here.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::{send, start, wait_ok};

const TEST_DB: &str = "brownout_reference_test";

fn reachable(host: &str, port: u16) -> bool {
    use std::net::ToSocketAddrs;
    (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
        })
}

/// The test database, created if missing; `None` (with the reason) to skip.
async fn test_database(pg: &str) -> Result<String, String> {
    let config: tokio_postgres::Config =
        pg.parse().map_err(|e| format!("REFERENCE_TEST_PG: {e}"))?;
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    if !reachable(&host, port) {
        return Err(format!("PostgreSQL is not reachable at {host}:{port}"));
    }
    let (client, connection) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("cannot connect to PostgreSQL ({pg}): {e}"))?;
    tokio::spawn(connection);
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&TEST_DB])
        .await
        .map_err(|e| e.to_string())?;
    if exists.is_none() {
        client
            .batch_execute(&format!("CREATE DATABASE {TEST_DB}"))
            .await
            .map_err(|e| format!("cannot create {TEST_DB}: {e}"))?;
    }
    let user = config.get_user().unwrap_or("postgres");
    Ok(format!(
        "host={host} port={port} user={user} dbname={TEST_DB}"
    ))
}

#[tokio::test]
async fn the_service_on_real_dependencies() {
    let pg = std::env::var("REFERENCE_TEST_PG")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=postgres".to_owned());
    let redis = std::env::var("REFERENCE_TEST_REDIS")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/15".to_owned());
    let pg = match test_database(&pg).await {
        Ok(pg) => pg,
        Err(why) => {
            eprintln!(
                "skipped: {why} (set REFERENCE_TEST_PG and REFERENCE_TEST_REDIS to run this test)"
            );
            return;
        }
    };
    let redis_port = redis
        .rsplit(':')
        .next()
        .and_then(|tail| tail.split('/').next())
        .and_then(|port| port.parse().ok())
        .unwrap_or(6379);
    if !reachable("127.0.0.1", redis_port) {
        eprintln!(
            "skipped: Redis is not reachable ({redis}; set REFERENCE_TEST_REDIS to run this test)"
        );
        return;
    }

    let (llm, llm_admin, objects, objects_admin, port) = (
        common::free_port(),
        common::free_port(),
        common::free_port(),
        common::free_port(),
        common::free_port(),
    );
    let upstream = env!("CARGO_BIN_EXE_fake-upstream");
    let _llm = start(
        upstream,
        &[
            "--listen",
            &format!("127.0.0.1:{llm}"),
            "--admin",
            &format!("127.0.0.1:{llm_admin}"),
        ],
    );
    let _objects = start(
        upstream,
        &[
            "--listen",
            &format!("127.0.0.1:{objects}"),
            "--admin",
            &format!("127.0.0.1:{objects_admin}"),
        ],
    );
    let _service = start(
        env!("CARGO_BIN_EXE_reference-service"),
        &[
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--pg",
            &pg,
            "--redis",
            &redis,
            "--llm-url",
            &format!("http://127.0.0.1:{llm}"),
            "--objects-url",
            &format!("http://127.0.0.1:{objects}"),
            "--reset",
            "--skus",
            "50",
        ],
    );
    let base = format!("http://127.0.0.1:{port}");
    assert!(
        wait_ok(&format!("{base}/health/live"), Duration::from_secs(30)).await,
        "the service did not start"
    );
    assert!(
        wait_ok(
            &format!("http://127.0.0.1:{llm}/health"),
            Duration::from_secs(10)
        )
        .await
    );

    // Reads come from the warmed cache; writes are one transaction, idempotent.
    let (status, _, body) = send("GET", &format!("{base}/stock/7"), &[], "")
        .await
        .expect("an answer");
    assert_eq!(
        (status, body.contains("\"source\":\"cache\"")),
        (200, true),
        "{body}"
    );
    let order = [
        ("content-type", "application/json"),
        ("idempotency-key", "live-1"),
    ];
    let (status, _, body) = send(
        "POST",
        &format!("{base}/orders"),
        &order,
        r#"{"sku": 7, "qty": 2}"#,
    )
    .await
    .expect("an answer");
    assert_eq!(status, 201, "{body}");
    let (status, _, body) = send(
        "POST",
        &format!("{base}/orders"),
        &order,
        r#"{"sku": 7, "qty": 2}"#,
    )
    .await
    .expect("an answer");
    assert_eq!((status, body.contains("replayed")), (200, true), "{body}");
    let (status, _, _) = send(
        "POST",
        &format!("{base}/orders"),
        &[("content-type", "application/json")],
        r#"{"sku": 7, "qty": 2}"#,
    )
    .await
    .expect("an answer");
    assert_eq!(status, 400, "no idempotency key");
    let (_, _, body) = send("GET", &format!("{base}/dashboard"), &[], "")
        .await
        .expect("an answer");
    assert_eq!(body, r#"{"orders":1,"units":2}"#);
    for path in [
        "/search?q=red",
        "/suggestions/3",
        "/images/3",
        "/stores",
        "/status",
    ] {
        let (status, _, body) = send("GET", &format!("{base}{path}"), &[], "")
            .await
            .expect("an answer");
        assert_eq!(status, 200, "{path}: {body}");
    }

    // The LLM fails: five calls later its breaker is open, the level MINIMAL
    // (read-only), suggestions and checkouts are shed with problem+json.
    send(
        "POST",
        &format!("http://127.0.0.1:{llm_admin}/fault"),
        &[],
        r#"{"error_rate": 1.0}"#,
    )
    .await;
    for _ in 0..5 {
        let (status, _, _) = send("GET", &format!("{base}/suggestions/3"), &[], "")
            .await
            .expect("an answer");
        assert_eq!(status, 502);
    }
    let (status, headers, body) = send("GET", &format!("{base}/suggestions/3"), &[], "")
        .await
        .expect("an answer");
    assert_eq!(status, 503, "{body}");
    assert_eq!(headers["content-type"], "application/problem+json");
    assert!(headers.contains_key("retry-after"));
    let (_, _, health) = send("GET", &format!("{base}/health"), &[], "")
        .await
        .expect("an answer");
    assert!(health.contains("\"level\":\"MINIMAL\""), "{health}");
    let order = [
        ("content-type", "application/json"),
        ("idempotency-key", "live-2"),
    ];
    let (status, _, _) = send(
        "POST",
        &format!("{base}/orders"),
        &order,
        r#"{"sku": 7, "qty": 1}"#,
    )
    .await
    .expect("an answer");
    assert_eq!(status, 503, "read-only at MINIMAL");
    let (status, _, _) = send("GET", &format!("{base}/stock/7"), &[], "")
        .await
        .expect("an answer");
    assert_eq!(status, 200, "stock reads go on");
    let (_, _, metrics) = send("GET", &format!("{base}/metrics"), &[], "")
        .await
        .expect("an answer");
    assert!(
        metrics.contains("reference_http_requests_total"),
        "{metrics}"
    );
    assert!(metrics.contains("brownout_"), "{metrics}");
}
