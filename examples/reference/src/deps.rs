//! The real dependencies: PostgreSQL, Redis and two HTTP upstreams, each
//! behind its breaker (brownout mode) or a plain `tokio::time::timeout` of
//! the same length (`--no-brownout`).

use std::fmt;
use std::future::Future;
use std::time::Duration;

use brownout::{Breaker, DegradationManager, Rejected};
use brownout_tower::{BoxError, BreakerLayer, HttpClassifier};
use bytes::Bytes;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tower::util::BoxCloneSyncService;
use tower::{ServiceBuilder, ServiceExt};

/// An error and its sources, as one line: `tokio-postgres` and `deadpool`
/// keep the cause (connection refused, ...) in the source chain.
pub(crate) fn full(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// How a call to a dependency failed.
#[derive(Debug)]
pub(crate) enum DepError {
    /// The breaker refused the call without making it.
    Open(Rejected),
    /// The call outlived the dependency's `call_timeout`.
    Timeout {
        dependency: &'static str,
        after: Duration,
    },
    /// The call ran and failed.
    Failed {
        dependency: &'static str,
        message: String,
    },
}

impl fmt::Display for DepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DepError::Open(rejected) => write!(f, "{rejected}"),
            DepError::Timeout { dependency, after } => {
                write!(f, "{dependency} did not answer within {after:?}")
            }
            DepError::Failed {
                dependency,
                message,
            } => write!(f, "{dependency} failed: {message}"),
        }
    }
}

/// Runs calls to one dependency: through its breaker (which applies the
/// dependency's `call_timeout`), or under a plain timeout of the same length.
#[derive(Clone, Debug)]
pub(crate) struct Guard {
    name: &'static str,
    timeout: Duration,
    breaker: Option<Breaker>,
}

impl Guard {
    /// A guard for `name`: its breaker in brownout mode, or only its
    /// `call_timeout` without a manager.
    pub(crate) fn new(
        name: &'static str,
        timeout: Duration,
        manager: Option<&DegradationManager>,
    ) -> Result<Self, String> {
        let breaker = match manager {
            Some(manager) => Some(
                manager
                    .breaker(name)
                    .map_err(|e| format!("the configuration has no dependency `{name}`: {e}"))?,
            ),
            None => None,
        };
        Ok(Guard {
            name,
            timeout,
            breaker,
        })
    }

    /// The call timeout.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs `call` as one call to the dependency.
    pub(crate) async fn run<T, E, Fut>(&self, call: Fut) -> Result<T, DepError>
    where
        E: fmt::Display,
        Fut: Future<Output = Result<T, E>>,
    {
        match &self.breaker {
            Some(breaker) => match breaker.call(|| call).await {
                Ok(value) => Ok(value),
                Err(brownout::Error::Rejected(rejected)) => Err(DepError::Open(rejected)),
                Err(brownout::Error::Inner(e)) => Err(DepError::Failed {
                    dependency: self.name,
                    message: e.to_string(),
                }),
                Err(_) => Err(DepError::Timeout {
                    dependency: self.name,
                    after: self.timeout,
                }),
            },
            None => match tokio::time::timeout(self.timeout, call).await {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(e)) => Err(DepError::Failed {
                    dependency: self.name,
                    message: e.to_string(),
                }),
                Err(_) => Err(DepError::Timeout {
                    dependency: self.name,
                    after: self.timeout,
                }),
            },
        }
    }
}

/// What a checkout did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Checkout {
    /// A new order, committed; the stock left.
    Placed { order: i64, left: i64 },
    /// The same idempotency key was already committed: that order.
    Replayed { order: i64 },
    /// Not enough stock (or no such SKU): nothing written.
    Refused,
}

/// PostgreSQL through a deadpool pool of tokio-postgres clients.
#[derive(Clone, Debug)]
pub(crate) struct Db {
    pool: Pool,
    guard: Guard,
}

impl Db {
    /// A pool for `url` (a libpq-style `key=value` string or a
    /// `postgresql://` URL); connects lazily.
    pub(crate) fn new(url: &str, guard: Guard) -> Result<Self, String> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| format!("bad PostgreSQL address {url:?}: {e}"))?;
        config.connect_timeout(guard.timeout());
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(16)
            .build()
            .map_err(|e| format!("cannot build the PostgreSQL pool: {e}"))?;
        Ok(Db { pool, guard })
    }

    /// `SELECT 1` on a pooled connection (the probe), under the call timeout.
    pub(crate) async fn ping(&self) -> Result<(), String> {
        let pool = self.pool.clone();
        let check = async move {
            let client = pool.get().await.map_err(|e| full(&e))?;
            client
                .simple_query("SELECT 1")
                .await
                .map_err(|e| full(&e))?;
            Ok::<_, String>(())
        };
        match tokio::time::timeout(self.guard.timeout(), check).await {
            Ok(result) => result,
            Err(_) => Err(format!("no answer within {:?}", self.guard.timeout())),
        }
    }

    /// Creates the tables and, when `reset` or when empty, fills `stock`
    /// with `skus` products and empties `orders`.
    pub(crate) async fn prepare(&self, skus: i32, reset: bool) -> Result<(), String> {
        let client = self.pool.get().await.map_err(|e| full(&e))?;
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS stock (
                     sku integer PRIMARY KEY,
                     name text NOT NULL,
                     qty bigint NOT NULL CHECK (qty >= 0),
                     initial_qty bigint NOT NULL
                 );
                 CREATE TABLE IF NOT EXISTS orders (
                     id bigserial PRIMARY KEY,
                     request_id text NOT NULL UNIQUE,
                     sku integer NOT NULL REFERENCES stock (sku),
                     qty bigint NOT NULL CHECK (qty > 0),
                     created_at timestamptz NOT NULL DEFAULT now()
                 );",
            )
            .await
            .map_err(|e| format!("cannot create the tables: {e}"))?;
        let row = client
            .query_one("SELECT count(*) FROM stock", &[])
            .await
            .map_err(|e| full(&e))?;
        let count: i64 = row.get(0);
        if reset || count == 0 {
            client
                .batch_execute("TRUNCATE orders, stock RESTART IDENTITY")
                .await
                .map_err(|e| format!("cannot reset the tables: {e}"))?;
            client
                .execute(
                    "INSERT INTO stock (sku, name, qty, initial_qty)
                     SELECT s, (ARRAY['red','blue','green','black','white'])[1 + s % 5] || ' ' ||
                               (ARRAY['chair','table','lamp','shelf','rug'])[1 + (s / 5) % 5] ||
                               ' #' || s,
                            1000000, 1000000
                     FROM generate_series(1, $1::integer) AS s",
                    &[&skus],
                )
                .await
                .map_err(|e| format!("cannot seed the stock table: {e}"))?;
        }
        Ok(())
    }

    /// Every SKU and its quantity (to warm the cache at startup).
    pub(crate) async fn all_stock(&self) -> Result<Vec<(i32, i64)>, String> {
        let client = self.pool.get().await.map_err(|e| full(&e))?;
        let rows = client
            .query("SELECT sku, qty FROM stock ORDER BY sku", &[])
            .await
            .map_err(|e| full(&e))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// The quantity in stock of `sku`, `None` for an unknown SKU.
    pub(crate) async fn stock(&self, sku: i32) -> Result<Option<i64>, DepError> {
        let pool = self.pool.clone();
        self.guard
            .run(async move {
                let client = pool.get().await.map_err(|e| full(&e))?;
                let statement = client
                    .prepare_cached("SELECT qty FROM stock WHERE sku = $1")
                    .await
                    .map_err(|e| full(&e))?;
                let row = client
                    .query_opt(&statement, &[&sku])
                    .await
                    .map_err(|e| full(&e))?;
                Ok::<_, String>(row.map(|row| row.get::<_, i64>(0)))
            })
            .await
    }

    /// Full-text search over product names (`ILIKE`), at most ten hits.
    pub(crate) async fn search(&self, query: &str) -> Result<Vec<(i32, String)>, DepError> {
        let pool = self.pool.clone();
        let pattern = format!("%{}%", query.replace(['%', '_', '\\'], ""));
        self.guard
            .run(async move {
                let client = pool.get().await.map_err(|e| full(&e))?;
                let statement = client
                    .prepare_cached(
                        "SELECT sku, name FROM stock WHERE name ILIKE $1 ORDER BY sku LIMIT 10",
                    )
                    .await
                    .map_err(|e| full(&e))?;
                let rows = client
                    .query(&statement, &[&pattern])
                    .await
                    .map_err(|e| full(&e))?;
                Ok::<_, String>(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
            })
            .await
    }

    /// Orders and units sold so far (the live sales dashboard).
    pub(crate) async fn sales(&self) -> Result<(i64, i64), DepError> {
        let pool = self.pool.clone();
        self.guard
            .run(async move {
                let client = pool.get().await.map_err(|e| full(&e))?;
                let row = client
                    .query_one(
                        "SELECT count(*), coalesce(sum(qty), 0)::bigint FROM orders",
                        &[],
                    )
                    .await
                    .map_err(|e| full(&e))?;
                Ok::<_, String>((row.get(0), row.get(1)))
            })
            .await
    }

    /// Places an order in ONE transaction: the order row (unique on its
    /// idempotency key) and the stock decrement commit together or not at all.
    pub(crate) async fn checkout(
        &self,
        request_id: String,
        sku: i32,
        qty: i64,
    ) -> Result<Checkout, DepError> {
        let pool = self.pool.clone();
        self.guard
            .run(async move {
                let mut client = pool.get().await.map_err(|e| full(&e))?;
                let tx = client.transaction().await.map_err(|e| full(&e))?;
                let inserted = tx
                    .query_opt(
                        "INSERT INTO orders (request_id, sku, qty) VALUES ($1, $2, $3)
                         ON CONFLICT (request_id) DO NOTHING RETURNING id",
                        &[&request_id, &sku, &qty],
                    )
                    .await
                    .map_err(|e| full(&e))?;
                let Some(inserted) = inserted else {
                    let row = tx
                        .query_one("SELECT id FROM orders WHERE request_id = $1", &[&request_id])
                        .await
                        .map_err(|e| full(&e))?;
                    tx.rollback().await.map_err(|e| full(&e))?;
                    return Ok(Checkout::Replayed { order: row.get(0) });
                };
                let left = tx
                    .query_opt(
                        "UPDATE stock SET qty = qty - $2 WHERE sku = $1 AND qty >= $2 RETURNING qty",
                        &[&sku, &qty],
                    )
                    .await
                    .map_err(|e| full(&e))?;
                let Some(left) = left else {
                    tx.rollback().await.map_err(|e| full(&e))?;
                    return Ok(Checkout::Refused);
                };
                tx.commit().await.map_err(|e| full(&e))?;
                Ok::<_, String>(Checkout::Placed {
                    order: inserted.get(0),
                    left: left.get(0),
                })
            })
            .await
    }
}

/// Redis through a multiplexed, self-reconnecting connection.
#[derive(Clone)]
pub(crate) struct Cache {
    client: redis::Client,
    connection: ConnectionManager,
    guard: Guard,
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache").field("guard", &self.guard).finish()
    }
}

impl Cache {
    /// Connects to `url` (`redis://host:port/`), giving up after `connect_timeout`.
    pub(crate) async fn connect(
        url: &str,
        guard: Guard,
        connect_timeout: Duration,
    ) -> Result<Self, String> {
        let client =
            redis::Client::open(url).map_err(|e| format!("bad Redis address {url:?}: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(guard.timeout()))
            .set_response_timeout(Some(guard.timeout()))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let connection = tokio::time::timeout(
            connect_timeout,
            ConnectionManager::new_with_config(client.clone(), config),
        )
        .await
        .map_err(|_| format!("no answer within {connect_timeout:?}"))?
        .map_err(|e| full(&e))?;
        Ok(Cache {
            client,
            connection,
            guard,
        })
    }

    /// The same connection, its calls run by `guard`.
    pub(crate) fn with_guard(self, guard: Guard) -> Self {
        Cache { guard, ..self }
    }

    /// `PING` on a new connection (the probe), under the call timeout: a
    /// health check that does not depend on the shared connection's state.
    /// The shared connection reconnects on its own at its next failed call.
    pub(crate) async fn ping(&self) -> Result<(), String> {
        let client = self.client.clone();
        let ping = async move {
            let mut connection = client
                .get_multiplexed_async_connection()
                .await
                .map_err(|e| full(&e))?;
            redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await
                .map_err(|e| full(&e))
        };
        match tokio::time::timeout(self.guard.timeout(), ping).await {
            Ok(result) => result.map(drop),
            Err(_) => Err(format!("no answer within {:?}", self.guard.timeout())),
        }
    }

    /// The cached value of `key`.
    pub(crate) async fn get(&self, key: String) -> Result<Option<String>, DepError> {
        let connection = self.connection.clone();
        self.guard
            .run(reconnecting(connection, move |mut c| {
                let key = key.clone();
                async move { c.get::<_, Option<String>>(key).await }
            }))
            .await
    }

    /// Sets `key` to `value`.
    pub(crate) async fn set(&self, key: String, value: String) -> Result<(), DepError> {
        let connection = self.connection.clone();
        self.guard
            .run(reconnecting(connection, move |mut c| {
                let (key, value) = (key.clone(), value.clone());
                async move { c.set::<_, _, ()>(key, value).await }
            }))
            .await
    }

    /// Sets many keys at once (cache warming), under `timeout`, outside the breaker.
    pub(crate) async fn set_many(
        &self,
        pairs: &[(String, String)],
        timeout: Duration,
    ) -> Result<(), String> {
        let mut connection = self.connection.clone();
        let mut pipe = redis::pipe();
        for (key, value) in pairs {
            pipe.set(key, value).ignore();
        }
        match tokio::time::timeout(timeout, pipe.query_async::<()>(&mut connection)).await {
            Ok(result) => result.map_err(|e| full(&e)),
            Err(_) => Err(format!("no answer within {timeout:?}")),
        }
    }
}

/// Runs `command`, and once more if the connection had dropped: after a
/// Redis restart the shared connection's first command fails and starts the
/// reconnect, and the retry goes out on the new connection (within the same
/// call timeout, in both modes).
async fn reconnecting<T, F, Fut>(connection: ConnectionManager, command: F) -> redis::RedisResult<T>
where
    F: Fn(ConnectionManager) -> Fut,
    Fut: Future<Output = redis::RedisResult<T>>,
{
    match command(connection.clone()).await {
        Err(e) if e.is_connection_dropped() || e.is_io_error() => command(connection).await,
        result => result,
    }
}

/// The HTTP request an upstream takes.
pub(crate) type UpstreamRequest = http::Request<Full<Bytes>>;
/// The HTTP client stack of one upstream.
type UpstreamService = BoxCloneSyncService<UpstreamRequest, http::Response<Incoming>, BoxError>;

/// A plain `tokio::time::timeout` ran out (`--no-brownout`).
#[derive(Debug)]
pub(crate) struct PlainTimeout(pub(crate) Duration);

impl fmt::Display for PlainTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no answer within {:?}", self.0)
    }
}

impl std::error::Error for PlainTimeout {}

/// An HTTP upstream (the LLM, the object store) reached with hyper-util's
/// client through brownout-tower's `BreakerLayer` (or a plain timeout).
#[derive(Clone)]
pub(crate) struct Upstream {
    base: String,
    name: &'static str,
    timeout: Duration,
    service: UpstreamService,
    plain: Client<HttpConnector, Full<Bytes>>,
}

impl fmt::Debug for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upstream")
            .field("name", &self.name)
            .field("base", &self.base)
            .finish()
    }
}

impl Upstream {
    /// The upstream `name` at `base` (`http://host:port`).
    pub(crate) fn new(
        name: &'static str,
        base: &str,
        timeout: Duration,
        manager: Option<&DegradationManager>,
    ) -> Result<Self, String> {
        let uri: http::Uri = base
            .parse()
            .map_err(|e| format!("bad {name} address {base:?}: {e}"))?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(format!(
                "bad {name} address {base:?}: expected http://host:port"
            ));
        }
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        connector.set_nodelay(true);
        let client: Client<HttpConnector, Full<Bytes>> =
            Client::builder(TokioExecutor::new()).build(connector);
        let service = match manager {
            Some(manager) => {
                let layer = BreakerLayer::from_manager(manager, name)
                    .map_err(|e| format!("the configuration has no dependency `{name}`: {e}"))?
                    .classifier(HttpClassifier::new());
                let stack = ServiceBuilder::new()
                    .layer(layer)
                    .service(client.clone())
                    .map_err(BoxError::from);
                BoxCloneSyncService::new(stack)
            }
            None => {
                let client = client.clone();
                BoxCloneSyncService::new(tower::service_fn(move |request: UpstreamRequest| {
                    let client = client.clone();
                    async move {
                        match tokio::time::timeout(timeout, client.request(request)).await {
                            Ok(Ok(response)) => Ok(response),
                            Ok(Err(e)) => Err(BoxError::from(e)),
                            Err(_) => Err(BoxError::from(PlainTimeout(timeout))),
                        }
                    }
                }))
            }
        };
        Ok(Upstream {
            base: base.trim_end_matches('/').to_owned(),
            name,
            timeout,
            service,
            plain: client,
        })
    }

    /// The upstream's name (its dependency in the configuration).
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// A request to `path` on the upstream.
    pub(crate) fn request(
        &self,
        method: http::Method,
        path: &str,
        body: Bytes,
    ) -> Result<UpstreamRequest, BoxError> {
        Ok(http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(body))?)
    }

    /// Sends `request` through the breaker (or the plain timeout) and reads
    /// the body within the call timeout.
    pub(crate) async fn send(
        &self,
        request: UpstreamRequest,
    ) -> Result<(http::StatusCode, Bytes), BoxError> {
        let response = self.service.clone().oneshot(request).await?;
        let status = response.status();
        match tokio::time::timeout(self.timeout, response.into_body().collect()).await {
            Ok(Ok(body)) => Ok((status, body.to_bytes())),
            Ok(Err(e)) => Err(BoxError::from(e)),
            Err(_) => Err(BoxError::from(PlainTimeout(self.timeout))),
        }
    }

    /// `GET /health` (the probe), outside the breaker, under the call timeout.
    pub(crate) async fn probe(&self) -> Result<(), String> {
        let request = self
            .request(http::Method::GET, "/health", Bytes::new())
            .map_err(|e| full(&*e))?;
        let call = async {
            let response = self.plain.request(request).await.map_err(|e| full(&e))?;
            let status = response.status();
            let _ = response.into_body().collect().await;
            if status.is_success() {
                Ok(())
            } else {
                Err(format!("health answered {status}"))
            }
        };
        match tokio::time::timeout(self.timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(format!("no answer within {:?}", self.timeout)),
        }
    }
}
