//! One Redis connection with a deadline on everything: connecting,
//! subscribing and every command. A failed command drops the connection;
//! the next one reconnects.

use std::time::Duration;

use redis::aio::{MultiplexedConnection, PubSubStream};
use redis::{AsyncConnectionConfig, Client, FromRedisValue};

use crate::error::{FleetError, redact};

#[derive(Debug)]
pub(crate) struct Link {
    client: Client,
    /// The URL with any password masked, for errors and logs.
    pub(crate) url: String,
    timeout: Duration,
    conn: Option<MultiplexedConnection>,
}

impl Link {
    /// Parses the URL; connects nothing yet.
    pub(crate) fn open(url: &str, timeout: Duration) -> Result<Self, FleetError> {
        let shown = redact(url);
        let invalid = |reason: String| FleetError::InvalidUrl {
            url: shown.clone(),
            reason,
        };
        if url.trim_start().starts_with("rediss://") || url.trim_start().starts_with("valkeys://") {
            return Err(invalid(
                "TLS is not supported by this build (use redis:// on a trusted network, or a TLS proxy)"
                    .to_owned(),
            ));
        }
        let client = Client::open(url).map_err(|e| invalid(e.to_string()))?;
        Ok(Link {
            client,
            url: shown,
            timeout,
            conn: None,
        })
    }

    fn unreachable(&self, reason: impl Into<String>) -> FleetError {
        FleetError::Unreachable {
            url: self.url.clone(),
            reason: reason.into(),
        }
    }

    /// Sets the deadline of later commands.
    pub(crate) fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
        self.conn = None;
    }

    /// Whether a connection is open (the last command did not fail).
    pub(crate) fn is_open(&self) -> bool {
        self.conn.is_some()
    }

    /// Drops the connection; the next command reconnects.
    pub(crate) fn reset(&mut self) {
        self.conn = None;
    }

    async fn connection(&mut self) -> Result<MultiplexedConnection, FleetError> {
        if let Some(conn) = &self.conn {
            return Ok(conn.clone());
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        // The connection handshake is bounded by the same deadline, twice over:
        // the client's own and ours around it.
        let attempt = self
            .client
            .get_multiplexed_async_connection_with_config(&config);
        match tokio::time::timeout(self.timeout.saturating_mul(2), attempt).await {
            Ok(Ok(conn)) => {
                self.conn = Some(conn.clone());
                Ok(conn)
            }
            Ok(Err(e)) => Err(FleetError::from_redis(&self.url, &e)),
            Err(_) => Err(self.unreachable(format!(
                "no connection within {}",
                humantime::format_duration(self.timeout.saturating_mul(2))
            ))),
        }
    }

    /// Runs one command within the deadline.
    pub(crate) async fn cmd<T: FromRedisValue>(
        &mut self,
        cmd: &redis::Cmd,
    ) -> Result<T, FleetError> {
        let mut conn = self.connection().await?;
        let result = tokio::time::timeout(self.timeout, cmd.query_async::<T>(&mut conn)).await;
        self.settle(result)
    }

    /// Runs a pipeline (or a MULTI/EXEC transaction) within the deadline.
    pub(crate) async fn pipe<T: FromRedisValue>(
        &mut self,
        pipe: &redis::Pipeline,
    ) -> Result<T, FleetError> {
        let mut conn = self.connection().await?;
        let result = tokio::time::timeout(self.timeout, pipe.query_async::<T>(&mut conn)).await;
        self.settle(result)
    }

    fn settle<T>(
        &mut self,
        result: Result<redis::RedisResult<T>, tokio::time::error::Elapsed>,
    ) -> Result<T, FleetError> {
        match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                let error = FleetError::from_redis(&self.url, &e);
                if matches!(error, FleetError::Unreachable { .. }) {
                    self.conn = None;
                }
                Err(error)
            }
            Err(_) => {
                self.conn = None;
                Err(self.unreachable(format!(
                    "no answer within {}",
                    humantime::format_duration(self.timeout)
                )))
            }
        }
    }

    /// A subscription to `channel` on a connection of its own.
    pub(crate) async fn subscribe(&self, channel: &str) -> Result<PubSubStream, FleetError> {
        let setup = async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub.subscribe(channel).await?;
            Ok::<_, redis::RedisError>(pubsub.into_on_message())
        };
        match tokio::time::timeout(self.timeout.saturating_mul(2), setup).await {
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(e)) => Err(FleetError::from_redis(&self.url, &e)),
            Err(_) => Err(self.unreachable("no subscription within the deadline")),
        }
    }
}
