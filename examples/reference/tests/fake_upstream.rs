//! The fake upstream's faults, set over its admin port. Needs no server.

// Wall-clock time is what a service and a load harness measure; there is
// no ManualClock to inject here.
#![allow(clippy::disallowed_methods)]

mod common;

use std::time::Duration;

use common::{send, start, wait_ok};

#[tokio::test]
async fn faults_are_set_and_lifted_at_run_time() {
    let (api, admin) = (common::free_port(), common::free_port());
    let _upstream = start(
        env!("CARGO_BIN_EXE_fake-upstream"),
        &[
            "--listen",
            &format!("127.0.0.1:{api}"),
            "--admin",
            &format!("127.0.0.1:{admin}"),
        ],
    );
    let api = format!("http://127.0.0.1:{api}");
    let admin = format!("http://127.0.0.1:{admin}");
    assert!(wait_ok(&format!("{api}/health"), Duration::from_secs(10)).await);
    let completion = send("POST", &format!("{api}/v1/completions"), &[], "{}").await;
    assert_eq!(completion.map(|a| a.0), Some(200));
    let object = send("GET", &format!("{api}/objects/a/b.png"), &[], "").await;
    assert_eq!(object.map(|a| a.0), Some(200));

    // Every request fails.
    let set = send(
        "POST",
        &format!("{admin}/fault"),
        &[],
        r#"{"error_rate": 1.0}"#,
    )
    .await;
    assert_eq!(set.map(|a| a.0), Some(200));
    assert_eq!(
        send("GET", &format!("{api}/health"), &[], "")
            .await
            .map(|a| a.0),
        Some(500)
    );

    // Hang: no answer (the client gives up after 5 s; ask with a shorter limit).
    send("POST", &format!("{admin}/fault"), &[], r#"{"hang": true}"#).await;
    let hung = tokio::time::timeout(
        Duration::from_millis(500),
        send("GET", &format!("{api}/health"), &[], ""),
    )
    .await;
    assert!(hung.is_err(), "a hanging upstream answered");

    // Refuse: the listener is closed.
    send(
        "POST",
        &format!("{admin}/fault"),
        &[],
        r#"{"refuse": true}"#,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        send("GET", &format!("{api}/health"), &[], "")
            .await
            .is_none()
    );

    // Latency, then healthy again.
    send(
        "POST",
        &format!("{admin}/fault"),
        &[],
        r#"{"latency_ms": 200}"#,
    )
    .await;
    assert!(wait_ok(&format!("{api}/health"), Duration::from_secs(5)).await);
    let started = std::time::Instant::now();
    assert_eq!(
        send("GET", &format!("{api}/health"), &[], "")
            .await
            .map(|a| a.0),
        Some(200)
    );
    assert!(started.elapsed() >= Duration::from_millis(200));
    let reset = send("POST", &format!("{admin}/reset"), &[], "").await;
    assert_eq!(reset.map(|a| a.0), Some(200));
    let fault = send("GET", &format!("{admin}/fault"), &[], "")
        .await
        .map(|a| a.2);
    assert_eq!(
        fault.as_deref(),
        Some(r#"{"error_rate":0.0,"latency_ms":0,"hang":false,"refuse":false}"#)
    );

    // Bad faults are refused.
    let bad = send(
        "POST",
        &format!("{admin}/fault"),
        &[],
        r#"{"error_rate": 2}"#,
    )
    .await;
    assert_eq!(bad.map(|a| a.0), Some(400));
    let bad = send("POST", &format!("{admin}/fault"), &[], r#"{"nope": 1}"#).await;
    assert_eq!(bad.map(|a| a.0), Some(400));
}
