//! A real HTTP/1.1 round trip: `axum::serve` on 127.0.0.1:0 and a raw client.

#[path = "support/mod.rs"]
mod support;

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use brownout::Level;
use brownout_axum::{health_router, require_feature};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use support::{json, manager, recover, trip};

struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

async fn request(addr: SocketAddr, path: &str) -> Answer {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("a complete response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

#[tokio::test]
async fn feature_gate_over_a_real_socket() {
    let (manager, clock) = manager();
    let app = Router::new()
        .route("/suggestions", get(|| async { "try the blue one" }))
        .route_layer(require_feature(&manager, "ai_suggestions").unwrap())
        .merge(health_router(manager.clone()));

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let answer = request(addr, "/suggestions").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, "try the blue one");

    trip(&manager, "openai");
    assert_eq!(manager.level(), Level::Minimal);
    let answer = request(addr, "/suggestions").await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.header("retry-after"), Some("5"));
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    let problem = json(&answer.body);
    assert_eq!(problem["feature"], "ai_suggestions");
    assert_eq!(problem["level"], "MINIMAL");
    assert_eq!(problem["status"], 503);

    let health = request(addr, "/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(
        health.header("content-type"),
        Some("application/health+json")
    );
    assert_eq!(
        json(&health.body)["checks"]["openai:circuit"][0]["status"],
        "fail"
    );

    recover(&manager, &clock, "openai");
    assert_eq!(manager.level(), Level::Optimal);
    let answer = request(addr, "/suggestions").await;
    assert_eq!(answer.status, 200);

    server.abort();
}
