//! A real round trip: a hyper server on 127.0.0.1 is the dependency, a
//! hyper-util client with `BreakerLayer` in front calls it. Stopping the
//! server opens the breaker and drops the manager's level; starting it again
//! on the same port and moving the manual clock brings the level back.
#![cfg(feature = "http")]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use brownout::clock::ManualClock;
use brownout::{BreakerState, Config, DegradationManager, Level};
use brownout_tower::{BoxError, BreakerLayer, CircuitOpen, HttpClassifier};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpListener, TcpSocket};
use tokio::task::{JoinHandle, JoinSet};
use tower::{Service, ServiceBuilder, ServiceExt};

/// The reference deployment's dependencies.
const CONFIG: &str = r#"
[dependencies.openai]
weight = 50
failure_threshold = 5
recovery_timeout = "30s"
half_open_max_calls = 2

[dependencies.database]
weight = 30
failure_threshold = 3
recovery_timeout = "20s"
half_open_max_calls = 1

[dependencies.redis]
weight = 15
failure_threshold = 5
recovery_timeout = "15s"
half_open_max_calls = 2

[dependencies.s3]
weight = 5
failure_threshold = 4
recovery_timeout = "25s"
half_open_max_calls = 2

[features.full_text_search]
min_level = "DEGRADED"

[features.ai_suggestions]
min_level = "OPTIMAL"
requires = ["openai"]

[features.inventory_writes]
min_level = "LIMITED"
requires = ["database"]
"#;

/// Binds `addr` (port 0 for an ephemeral one) with `SO_REUSEADDR`, so the
/// same port can be bound again right after the server stops.
fn bind(addr: SocketAddr) -> TcpListener {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket.bind(addr).unwrap();
    socket.listen(64).unwrap()
}

/// Serves `200 stock: 12` on every connection until the task is aborted;
/// aborting it drops the listener and every open connection.
fn serve(listener: TcpListener, hits: Arc<AtomicUsize>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let hits = Arc::clone(&hits);
            let service =
                hyper::service::service_fn(move |_req: Request<hyper::body::Incoming>| {
                    hits.fetch_add(1, Ordering::SeqCst);
                    async {
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("stock: 12"))))
                    }
                });
            connections.spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

async fn stop(server: JoinHandle<()>) {
    server.abort();
    assert!(server.await.unwrap_err().is_cancelled());
}

async fn get<S>(client: &mut S, addr: SocketAddr) -> Result<(StatusCode, Bytes), BoxError>
where
    S: Service<Request<Empty<Bytes>>, Response = Response<hyper::body::Incoming>, Error = BoxError>,
{
    let request = Request::get(format!("http://{addr}/stock/42"))
        .body(Empty::new())
        .unwrap();
    let response = client.ready().await?.call(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_server_opens_the_breaker_and_recovery_restores_optimal() {
    let clock = ManualClock::new();
    let manager = DegradationManager::builder()
        .clock(clock.clone())
        .config(Config::from_toml_str(CONFIG).unwrap())
        .build()
        .unwrap();
    let database = manager.breaker("database").unwrap();

    let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0)));
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let server = serve(listener, Arc::clone(&hits));

    let http = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut client = ServiceBuilder::new()
        .layer(
            BreakerLayer::from_manager(&manager, "database")
                .unwrap()
                .classifier(HttpClassifier::new()),
        )
        .timeout(Duration::from_secs(10))
        .service(http);

    // Healthy: the answer comes through, everything is on.
    let (status, body) = get(&mut client, addr).await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "stock: 12");
    assert_eq!(manager.level(), Level::Optimal);
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // The server goes away: three refused connections open the breaker.
    stop(server).await;
    for _ in 0..3 {
        let err = get(&mut client, addr).await.unwrap_err();
        assert!(
            !err.is::<CircuitOpen>(),
            "a transport error, not a rejection: {err}"
        );
    }
    assert_eq!(database.state(), BreakerState::Open);
    assert_eq!(manager.health_score(), 70.0);
    assert_eq!(manager.level(), Level::Degraded);
    assert!(manager.is_enabled("full_text_search"));
    assert!(!manager.is_enabled("ai_suggestions"));
    assert!(!manager.is_enabled("inventory_writes"));

    // The server is back on the same port, but the breaker is still open:
    // requests fail fast and never reach it.
    let server = serve(bind(addr), Arc::clone(&hits));
    let err = get(&mut client, addr).await.unwrap_err();
    let open = err
        .downcast_ref::<CircuitOpen>()
        .expect("rejected by the breaker");
    assert_eq!(open.dependency(), "database");
    assert_eq!(open.retry_after(), Duration::from_secs(20));
    assert_eq!(hits.load(Ordering::SeqCst), 1);

    // The recovery timeout passes: one trial goes through and closes it.
    clock.advance(Duration::from_secs(20));
    let (status, body) = get(&mut client, addr).await.unwrap();
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"stock: 12"[..]));
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    assert_eq!(database.state(), BreakerState::Closed);
    assert_eq!(manager.health_score(), 100.0);
    assert_eq!(manager.level(), Level::Optimal);
    assert!(manager.is_enabled("inventory_writes"));

    stop(server).await;
}
