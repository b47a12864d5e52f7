//! A real `redis-server` on loopback, started by the tests on a free port
//! in a temporary directory, and helpers to wait for conditions.
//!
//! Without `redis-server` on `PATH` the tests print a skip message and
//! pass, unless `BROWNOUT_REQUIRE_REDIS=1` (CI), which turns the skip into
//! a failure.

#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use brownout::DegradationManager;
use brownout_redis::{Fleet, FleetConfig};
use tokio::time::Instant;

/// A redis-server child process.
pub struct RedisServer {
    binary: PathBuf,
    port: u16,
    dir: PathBuf,
    persistent: bool,
    child: Option<Child>,
    paused: bool,
}

fn find_redis() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("redis-server"))
        .find(|candidate| candidate.is_file())
}

/// Whether the tests must not skip for want of redis-server.
fn required() -> bool {
    std::env::var("BROWNOUT_REQUIRE_REDIS").is_ok_and(|v| v == "1" || v == "true")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl RedisServer {
    /// A fresh server without persistence, or `None` (after printing why)
    /// when redis-server is not installed.
    pub fn start(test: &str) -> Option<Self> {
        Self::start_with(test, false)
    }

    /// A fresh server with an append-only file (fsync on every write), so
    /// a restart after SIGKILL brings its data back.
    pub fn start_persistent(test: &str) -> Option<Self> {
        Self::start_with(test, true)
    }

    /// A fresh server without persistence on `port`.
    pub fn start_on(test: &str, port: u16) -> Option<Self> {
        Self::start_at(test, false, Some(port))
    }

    fn start_with(test: &str, persistent: bool) -> Option<Self> {
        Self::start_at(test, persistent, None)
    }

    fn start_at(test: &str, persistent: bool, port: Option<u16>) -> Option<Self> {
        let Some(binary) = find_redis() else {
            assert!(
                !required(),
                "BROWNOUT_REQUIRE_REDIS=1 but redis-server is not on PATH (apt-get install redis-server)"
            );
            // Straight to the process's stderr, past the test harness's
            // capture, so the skip shows in a normal `cargo test` run.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: redis-server is not on PATH (install it, e.g. `apt-get install redis-server`; set BROWNOUT_REQUIRE_REDIS=1 to make this a failure)"
            );
            return None;
        };
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let port = port.unwrap_or_else(free_port);
        let dir = std::env::temp_dir().join(format!(
            "brownout-redis-test-{}-{}-{port}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let mut server = RedisServer {
            binary,
            port,
            dir,
            persistent,
            child: None,
            paused: false,
        };
        server.spawn();
        Some(server)
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("redis.log"))
            .expect("a log file");
        let mut command = Command::new(&self.binary);
        command
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--save")
            .arg("")
            .arg("--dir")
            .arg(&self.dir);
        if self.persistent {
            command.args(["--appendonly", "yes", "--appendfsync", "always"]);
        } else {
            command.args(["--appendonly", "no"]);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        self.paused = false;
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let deadline = std::time::Duration::from_secs(10);
        let mut waited = Duration::ZERO;
        while waited < deadline {
            if ping(self.port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
            waited += Duration::from_millis(10);
        }
        let log = std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default();
        panic!(
            "redis-server on port {} did not answer within 10s:\n{log}",
            self.port
        );
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// SIGSTOP: the server keeps its sockets but answers nothing.
    pub fn pause(&mut self) {
        self.signal("STOP");
        self.paused = true;
    }

    /// SIGCONT.
    pub fn resume(&mut self) {
        self.signal("CONT");
        self.paused = false;
    }

    /// SIGKILL, and reap it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.paused = false;
    }

    /// Starts it again on the same port and directory.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if self.paused {
            self.resume();
        }
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0_u8; 16];
    matches!(stream.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
}

/// Polls `condition` every millisecond until it holds or `limit` passes;
/// returns the time it took, or `None` on timeout.
pub async fn wait_for(limit: Duration, mut condition: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if condition() {
            return Some(start.elapsed());
        }
        if start.elapsed() > limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// A manager with two dependencies that open after three failures and
/// stay open for a minute (so nothing recovers during a test).
pub fn manager() -> DegradationManager {
    DegradationManager::from_toml_str(
        r#"
        [dependencies.database]
        weight = 50
        failure_threshold = 3
        recovery_timeout = "60s"

        [dependencies.openai]
        weight = 50
        failure_threshold = 3
        recovery_timeout = "60s"

        [features.search]
        min_level = "LIMITED"
        requires = ["database"]
        "#,
    )
    .expect("a valid configuration")
}

/// A fleet configuration for tests: a prefix of its own, short heartbeats.
pub fn config(url: &str, prefix: &str, id: &str) -> FleetConfig {
    FleetConfig::new(url)
        .with_prefix(prefix)
        .with_replica_id(id)
        .with_heartbeat(Duration::from_millis(200), Some(Duration::from_millis(600)))
}

/// Starts `n` replicas (`r0`, `r1`, ...) with their own managers.
pub async fn replicas(
    n: usize,
    configure: impl Fn(FleetConfig) -> FleetConfig,
    url: &str,
    prefix: &str,
) -> Vec<(DegradationManager, Fleet)> {
    let mut out = Vec::new();
    for i in 0..n {
        let manager = manager();
        let fleet = Fleet::start(&manager, configure(config(url, prefix, &format!("r{i}"))))
            .await
            .expect("the fleet starts");
        out.push((manager, fleet));
    }
    out
}

/// Opens `dependency` on `manager` through failed calls (its own evidence).
pub fn fail(manager: &DegradationManager, dependency: &str) {
    let breaker = manager.breaker(dependency).expect("known dependency");
    for _ in 0..3 {
        let _ = breaker.call_sync(|| Err::<(), _>("down"));
    }
    assert_eq!(breaker.state(), brownout::BreakerState::Open);
}

/// The p-th percentile (0..=100) of `samples`.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}
