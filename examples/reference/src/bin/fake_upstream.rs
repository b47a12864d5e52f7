//! A fake HTTP upstream with fault injection, for the reference service:
//! an LLM-style completion API (`POST /v1/completions`) and an
//! object-store-style API (`GET /objects/{key}`), plus `GET /health`.
//!
//! Faults are set at run time on a separate admin listener, which stays up
//! whatever the faults:
//!
//! ```text
//! fake-upstream --listen 127.0.0.1:8181 --admin 127.0.0.1:9181 --base-latency-ms 30
//! curl -X POST localhost:9181/fault -d '{"error_rate": 1.0}'    # every request: 500
//! curl -X POST localhost:9181/fault -d '{"latency_ms": 800}'    # 800 ms more per request
//! curl -X POST localhost:9181/fault -d '{"hang": true}'         # accept, never answer
//! curl -X POST localhost:9181/fault -d '{"refuse": true}'       # close the listener and every connection
//! curl -X POST localhost:9181/reset                             # healthy again
//! curl localhost:9181/fault                                     # the faults in force
//! ```
//!
//! A `POST /fault` replaces every fault at once (fields left out are off).
//! The faults apply to `/health` too, so a health probe sees what callers see.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Parser;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// A fake HTTP upstream with fault injection.
#[derive(Debug, Parser)]
#[command(name = "fake-upstream", version, about)]
struct Args {
    /// Address of the upstream API.
    #[arg(long, env = "FAKE_UPSTREAM_LISTEN", default_value = "127.0.0.1:8181")]
    listen: String,
    /// Address of the admin API that sets faults.
    #[arg(long, env = "FAKE_UPSTREAM_ADMIN", default_value = "127.0.0.1:9181")]
    admin: String,
    /// Latency of every healthy answer, in milliseconds (an LLM is slow).
    #[arg(long, default_value_t = 0)]
    base_latency_ms: u64,
}

/// The faults in force.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Fault {
    /// Share of requests answered `500`, 0 to 1.
    error_rate: f64,
    /// Milliseconds added to every answer.
    latency_ms: u64,
    /// Accept requests and never answer.
    hang: bool,
    /// Close the listener and every open connection: connections are refused.
    refuse: bool,
}

#[derive(Clone, Debug)]
struct Shared {
    fault: Arc<Mutex<Fault>>,
    changes: watch::Sender<Fault>,
    rolls: Arc<AtomicU64>,
    base_latency: Duration,
}

impl Shared {
    fn fault(&self) -> Fault {
        *self.fault.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap_or_else(PoisonError::into_inner) = fault;
        self.changes.send_replace(fault);
    }

    /// A deterministic, well-spread draw in [0, 1) per request.
    fn roll(&self) -> f64 {
        let n = self.rolls.fetch_add(1, Ordering::Relaxed);
        let mut x = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("fake-upstream: error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse_addr(what: &str, addr: &str) -> Result<SocketAddr, String> {
    addr.parse()
        .map_err(|e| format!("bad {what} address {addr:?}: {e}"))
}

/// A listener with `SO_REUSEADDR`, so the address can be taken again at once
/// after a `refuse` fault closed it.
fn bind(addr: SocketAddr) -> Result<TcpListener, String> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| e.to_string())?;
    socket.set_reuseaddr(true).map_err(|e| e.to_string())?;
    socket
        .bind(addr)
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    socket
        .listen(1024)
        .map_err(|e| format!("cannot listen on {addr}: {e}"))
}

async fn run(args: Args) -> Result<(), String> {
    let listen = parse_addr("listen", &args.listen)?;
    let admin = parse_addr("admin", &args.admin)?;
    let (changes, mut watch) = watch::channel(Fault::default());
    let shared = Shared {
        fault: Arc::new(Mutex::new(Fault::default())),
        changes,
        rolls: Arc::new(AtomicU64::new(0)),
        base_latency: Duration::from_millis(args.base_latency_ms),
    };
    let api = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/v1/completions", post(completion))
        .route("/objects/{*key}", get(object))
        .layer(axum::middleware::from_fn_with_state(shared.clone(), faults))
        .with_state(shared.clone());
    let admin_app = Router::new()
        .route(
            "/fault",
            get(|State(s): State<Shared>| async move { Json(s.fault()) }).post(set_fault),
        )
        .route(
            "/reset",
            post(|State(s): State<Shared>| async move {
                s.set(Fault::default());
                Json(s.fault())
            }),
        )
        .with_state(shared.clone());

    let admin_listener = bind(admin)?;
    let first = bind(listen)?;
    println!("fake-upstream: api on http://{listen}, admin on http://{admin}");
    tokio::spawn(async move {
        if let Err(e) = axum::serve(admin_listener, admin_app).await {
            eprintln!("fake-upstream: admin server: {e}");
        }
    });

    // Serves the API until a `refuse` fault; then serves nothing (the
    // listener and every connection closed) until it is lifted.
    let mut serving = Some(tokio::spawn(serve(first, api.clone())));
    loop {
        tokio::select! {
            changed = watch.changed() => {
                if changed.is_err() {
                    break;
                }
                let refuse = watch.borrow_and_update().refuse;
                match (refuse, serving.is_some()) {
                    (true, true) => {
                        if let Some(task) = serving.take() {
                            task.abort();
                            let _ = task.await;
                        }
                    }
                    (false, false) => {
                        serving = Some(tokio::spawn(serve(bind(listen)?, api.clone())));
                    }
                    _ => {}
                }
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    Ok(())
}

/// Accepts connections; dropping (aborting) this task closes the listener
/// and every connection it opened.
async fn serve(listener: TcpListener, api: Router) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(api.clone());
                connections.spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn set_fault(State(shared): State<Shared>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<Fault>(&body) {
        Ok(fault) if (0.0..=1.0).contains(&fault.error_rate) => {
            shared.set(fault);
            Json(fault).into_response()
        }
        Ok(_) => (StatusCode::BAD_REQUEST, "error_rate must be in [0, 1]\n").into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, format!("bad fault: {e}\n")).into_response(),
    }
}

async fn faults(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    let fault = shared.fault();
    if fault.hang {
        std::future::pending::<()>().await;
    }
    if fault.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.latency_ms)).await;
    }
    if fault.error_rate > 0.0 && shared.roll() < fault.error_rate {
        return (StatusCode::INTERNAL_SERVER_ERROR, "injected failure\n").into_response();
    }
    next.run(request).await
}

async fn completion(State(shared): State<Shared>, body: axum::body::Bytes) -> Response {
    tokio::time::sleep(shared.base_latency).await;
    let words = body.len() % 7 + 3;
    Json(serde_json::json!({
        "text": "customers who bought this also bought the blue one",
        "tokens": words,
    }))
    .into_response()
}

async fn object(State(shared): State<Shared>, Path(key): Path<String>) -> Response {
    tokio::time::sleep(shared.base_latency).await;
    let mut body = Vec::with_capacity(4096);
    body.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    body.extend(key.bytes().cycle().take(4088));
    ([(axum::http::header::CONTENT_TYPE, "image/png")], body).into_response()
}
