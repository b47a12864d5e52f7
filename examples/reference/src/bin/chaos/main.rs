//! The chaos harness: breaks the reference service's real dependencies
//! under constant-rate load, with and without brownout, records every
//! second, checks the assertions and writes CSV, JSON and markdown.
//!
//! Normally started by `examples/reference/chaos.sh`, which installs what
//! is missing, builds, prepares a throwaway PostgreSQL cluster (and its
//! `pg-ctl` wrapper in the work directory) and cleans up on exit.
//!
//! ```text
//! chaos --work DIR --pg-port PORT --out DIR [--short] [--scenarios redis-kill,llm-500]
//! ```

// Wall-clock time is what a service and a load harness measure; there is
// no ManualClock to inject here.
#![allow(clippy::disallowed_methods)]

mod load;
mod oha;
mod procs;
mod report;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use http_body_util::Full;

use crate::load::{HttpClient, Plan};
use crate::procs::{Procs, free_port, pg_ctl};
use crate::report::{Expect, RunSummary};

/// The chaos harness of the reference service.
#[derive(Debug, Parser)]
#[command(name = "chaos", version, about)]
struct Args {
    /// A throwaway work directory holding `pg-ctl`, logs and pid files.
    #[arg(long)]
    work: PathBuf,
    /// The port of the throwaway PostgreSQL cluster `pg-ctl` starts.
    #[arg(long)]
    pg_port: u16,
    /// Where the results go (CSV, JSON, markdown).
    #[arg(long)]
    out: PathBuf,
    /// Directory of the `reference-service` and `fake-upstream` binaries
    /// (default: this binary's).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// The Redis server binary.
    #[arg(long, default_value = "redis-server")]
    redis_server: PathBuf,
    /// The CI mode: two scenarios, shorter phases.
    #[arg(long)]
    short: bool,
    /// Scenarios to run (comma-separated; default: all, or two with --short).
    #[arg(long, value_delimiter = ',')]
    scenarios: Vec<String>,
    /// Requests per second over the route mix.
    #[arg(long, default_value_t = 100)]
    rate: u32,
    /// Products the service seeds.
    #[arg(long, default_value_t = 1000)]
    skus: u32,
    /// The `oha` binary, for constant-rate load on `GET /stock/{sku}`
    /// beside the mix (default: `oha` on the PATH, if any).
    #[arg(long)]
    oha: Option<PathBuf>,
    /// Run without `oha` even if it is installed.
    #[arg(long)]
    no_oha: bool,
    /// Requests per second `oha` sends to `GET /stock/{sku}`.
    #[arg(long, default_value_t = 50)]
    oha_rate: u32,
}

/// A way to break the service's dependencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    RedisKill,
    RedisPause,
    PgStop,
    LlmHang,
    Llm500,
    Everything,
}

impl Scenario {
    const ALL: [Scenario; 6] = [
        Scenario::RedisKill,
        Scenario::RedisPause,
        Scenario::PgStop,
        Scenario::LlmHang,
        Scenario::Llm500,
        Scenario::Everything,
    ];
    const SHORT: [Scenario; 2] = [Scenario::RedisKill, Scenario::Llm500];

    fn name(self) -> &'static str {
        match self {
            Scenario::RedisKill => "redis-kill",
            Scenario::RedisPause => "redis-pause",
            Scenario::PgStop => "pg-stop",
            Scenario::LlmHang => "llm-hang",
            Scenario::Llm500 => "llm-500",
            Scenario::Everything => "everything",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Scenario::RedisKill => "Redis killed (SIGKILL), then restarted empty",
            Scenario::RedisPause => "Redis paused (SIGSTOP), then resumed (SIGCONT)",
            Scenario::PgStop => "PostgreSQL stopped (pg_ctl stop -m fast), then started",
            Scenario::LlmHang => "The LLM upstream hangs (accepts, never answers)",
            Scenario::Llm500 => "The LLM upstream answers 500 to everything",
            Scenario::Everything => {
                "Everything at once: Redis killed, PostgreSQL stopped, LLM 500s, object store refusing connections"
            }
        }
    }

    /// The level the reference table gives, and the longest time back to
    /// OPTIMAL after the restore: the slowest dependency's recovery timeout,
    /// plus its probe's limit (a probe started just before the restore may
    /// still fail), plus the background task's one-second look, plus 1 s.
    fn expect(self) -> Expect {
        let (level, recovery, probe, single) = match self {
            Scenario::RedisKill | Scenario::RedisPause => ("DEGRADED", 15.0, 0.25, true),
            Scenario::PgStop => ("DEGRADED", 20.0, 2.0, true),
            Scenario::LlmHang | Scenario::Llm500 => ("MINIMAL", 30.0, 5.0, true),
            // Redis and the database trip first (score 55, MINIMAL) and the
            // gates stop the calls to the LLM and the object store; their
            // `probe_interval` checks find them out, down to EMERGENCY.
            Scenario::Everything => ("EMERGENCY", 30.0, 5.0, false),
        };
        Expect {
            level,
            exact: true,
            recovery_bound: Duration::from_secs_f64(recovery + probe + 1.0 + 1.0),
            single_dependency: single,
        }
    }

    /// How long the fault lasts.
    fn fault(self, short: bool) -> Duration {
        match (self, short) {
            (Scenario::LlmHang | Scenario::Everything, false) => Duration::from_secs(20),
            (_, false) => Duration::from_secs(15),
            (_, true) => Duration::from_secs(10),
        }
    }

    fn parse(name: &str) -> Result<Scenario, String> {
        Scenario::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
                format!("unknown scenario {name:?} (known: {})", names.join(", "))
            })
    }
}

/// Everything running, and where.
struct Lab {
    args: Args,
    procs: Procs,
    bin_dir: PathBuf,
    pg_ctl: PathBuf,
    redis_port: u16,
    llm: (u16, u16),
    objects: (u16, u16),
    client: HttpClient,
    pg_up: bool,
    oha: Option<PathBuf>,
}

impl Lab {
    fn pg_url(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.args.pg_port
        )
    }

    async fn start_redis(&mut self) -> Result<(), String> {
        let dir = self.args.work.join("redis");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let args = vec![
            "--port".to_owned(),
            self.redis_port.to_string(),
            "--bind".to_owned(),
            "127.0.0.1".to_owned(),
            "--save".to_owned(),
            String::new(),
            "--appendonly".to_owned(),
            "no".to_owned(),
            "--dir".to_owned(),
            dir.display().to_string(),
        ];
        let program = self.args.redis_server.clone();
        self.procs.spawn("redis", &program, &args)?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if redis_ping(self.redis_port).await {
                return Ok(());
            }
            if let Some(status) = self.procs.exited("redis") {
                return Err(format!(
                    "redis-server exited ({status}); see {}",
                    self.procs.log_path("redis").display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err("redis-server did not answer PING within 10 s".to_owned())
    }

    async fn pg(&mut self, up: bool) -> Result<(), String> {
        pg_ctl(&self.pg_ctl, if up { "start" } else { "stop" }).await?;
        self.pg_up = up;
        Ok(())
    }

    async fn fault(&self, admin: u16, body: &str) -> Result<(), String> {
        let request = http::Request::post(format!("http://127.0.0.1:{admin}/fault"))
            .body(Full::new(Bytes::from(body.to_owned())))
            .map_err(|e| e.to_string())?;
        match load::send(&self.client, request, Duration::from_secs(5)).await {
            Some((status, _, _)) if status.is_success() => Ok(()),
            Some((status, _, body)) => Err(format!(
                "fault {body:?} answered {status}: {}",
                String::from_utf8_lossy(&body)
            )),
            None => Err(format!(
                "fake upstream admin on port {admin} did not answer"
            )),
        }
    }

    async fn break_it(&mut self, scenario: Scenario) -> Result<(), String> {
        match scenario {
            Scenario::RedisKill => self.procs.kill("redis").await,
            Scenario::RedisPause => self.procs.signal("redis", "STOP").await?,
            Scenario::PgStop => self.pg(false).await?,
            Scenario::LlmHang => self.fault(self.llm.1, r#"{"hang": true}"#).await?,
            Scenario::Llm500 => self.fault(self.llm.1, r#"{"error_rate": 1.0}"#).await?,
            Scenario::Everything => {
                self.procs.kill("redis").await;
                self.pg(false).await?;
                self.fault(self.llm.1, r#"{"error_rate": 1.0}"#).await?;
                self.fault(self.objects.1, r#"{"refuse": true}"#).await?;
            }
        }
        Ok(())
    }

    async fn repair(&mut self, scenario: Scenario) -> Result<(), String> {
        match scenario {
            Scenario::RedisKill => self.start_redis().await?,
            Scenario::RedisPause => self.procs.signal("redis", "CONT").await?,
            Scenario::PgStop => self.pg(true).await?,
            Scenario::LlmHang | Scenario::Llm500 => self.fault(self.llm.1, "{}").await?,
            Scenario::Everything => {
                self.start_redis().await?;
                self.pg(true).await?;
                self.fault(self.llm.1, "{}").await?;
                self.fault(self.objects.1, "{}").await?;
            }
        }
        Ok(())
    }

    /// Everything healthy again, whatever a failed run left behind.
    async fn heal(&mut self) -> Result<(), String> {
        if self.procs.pid("redis").is_some() {
            let _ = self.procs.signal("redis", "CONT").await;
        } else {
            self.start_redis().await?;
        }
        if !self.pg_up {
            self.pg(true).await?;
        }
        self.fault(self.llm.1, "{}").await?;
        self.fault(self.objects.1, "{}").await
    }

    async fn start_upstreams(&mut self) -> Result<(), String> {
        let upstream = self.bin_dir.join("fake-upstream");
        for (name, (port, admin), latency) in [("llm", self.llm, 30), ("objects", self.objects, 5)]
        {
            let args = vec![
                "--listen".to_owned(),
                format!("127.0.0.1:{port}"),
                "--admin".to_owned(),
                format!("127.0.0.1:{admin}"),
                "--base-latency-ms".to_owned(),
                latency.to_string(),
            ];
            self.procs.spawn(name, &upstream, &args)?;
            let url = format!("http://127.0.0.1:{admin}/fault");
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if load::get_json(&self.client, &url).await.is_some() {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(format!("fake upstream {name} did not start"));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(())
    }

    /// Starts the service; returns its base URL once it answers.
    async fn start_service(&mut self, name: &str, brownout: bool) -> Result<String, String> {
        let port = free_port()?;
        let mut args = vec![
            "--listen".to_owned(),
            format!("127.0.0.1:{port}"),
            "--pg".to_owned(),
            self.pg_url(),
            "--redis".to_owned(),
            format!("redis://127.0.0.1:{}/", self.redis_port),
            "--llm-url".to_owned(),
            format!("http://127.0.0.1:{}", self.llm.0),
            "--objects-url".to_owned(),
            format!("http://127.0.0.1:{}", self.objects.0),
            "--reset".to_owned(),
            "--skus".to_owned(),
            self.args.skus.to_string(),
        ];
        if !brownout {
            args.push("--no-brownout".to_owned());
        }
        let program = self.bin_dir.join("reference-service");
        self.procs.spawn(name, &program, &args)?;
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(health) = load::get_json(&self.client, &format!("{base}/health")).await {
                let ready =
                    !brownout || health.get("level").and_then(|l| l.as_str()) == Some("OPTIMAL");
                if ready {
                    return Ok(base);
                }
            }
            if let Some(status) = self.procs.exited(name) {
                return Err(format!(
                    "the service exited ({status}); see {}",
                    self.procs.log_path(name).display()
                ));
            }
            if Instant::now() > deadline {
                return Err("the service did not come up (OPTIMAL) within 30 s".to_owned());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Committed order keys of `run`, and whether stock taken equals units ordered.
    async fn committed_orders(&self, run: &str) -> Result<(BTreeSet<u64>, bool), String> {
        let (client, connection) = tokio_postgres::connect(&self.pg_url(), tokio_postgres::NoTls)
            .await
            .map_err(|e| format!("PostgreSQL (checking orders): {e}"))?;
        tokio::spawn(connection);
        let prefix = format!("{run}-");
        let rows = client
            .query(
                "SELECT request_id FROM orders WHERE starts_with(request_id, $1)",
                &[&prefix],
            )
            .await
            .map_err(|e| format!("PostgreSQL (checking orders): {e}"))?;
        let keys = rows
            .iter()
            .filter_map(|r| {
                r.get::<_, String>(0)
                    .strip_prefix(&prefix)
                    .and_then(|n| n.parse::<u64>().ok())
            })
            .collect();
        let row = client
            .query_one(
                "SELECT (SELECT coalesce(sum(initial_qty - qty), 0)::bigint FROM stock),
                        (SELECT coalesce(sum(qty), 0)::bigint FROM orders)",
                &[],
            )
            .await
            .map_err(|e| format!("PostgreSQL (checking stock): {e}"))?;
        let (taken, ordered): (i64, i64) = (row.get(0), row.get(1));
        Ok((keys, taken == ordered))
    }

    /// One scenario in one mode.
    async fn run(&mut self, scenario: Scenario, brownout: bool) -> Result<RunSummary, String> {
        let mode = if brownout { "brownout" } else { "no-brownout" };
        let run = format!("{}-{mode}", scenario.name());
        let short = self.args.short;
        let warm = Duration::from_secs(if short { 5 } else { 10 });
        let fault = scenario.fault(short);
        let expect = scenario.expect();
        let recover = expect.recovery_bound + Duration::from_secs(if short { 3 } else { 8 });
        let total = warm + fault + recover;
        println!(
            "== {run}: {} ({}s steady, {}s fault, {}s recovery, {} req/s)",
            scenario.title(),
            warm.as_secs(),
            fault.as_secs(),
            recover.as_secs(),
            self.args.rate
        );
        self.heal().await?;
        let service = format!("service-{run}");
        let base = self.start_service(&service, brownout).await?;
        let plan = Plan {
            base,
            rate: self.args.rate,
            duration: total,
            run: run.clone(),
            skus: u64::from(self.args.skus),
            request_limit: Duration::from_secs(30),
            poll_level: brownout,
        };
        let oha = match &self.oha {
            Some(oha) => Some(oha::start(oha, &plan.base, self.args.oha_rate, total)?),
            None => None,
        };
        let start = Instant::now();
        let driver = tokio::spawn(load::drive(plan, start));
        tokio::time::sleep_until((start + warm).into()).await;
        let fault_at = start.elapsed();
        let broke = self.break_it(scenario).await;
        println!("   fault at {:.1}s", fault_at.as_secs_f64());
        if broke.is_ok() {
            tokio::time::sleep_until((start + warm + fault).into()).await;
        }
        let repaired = self.repair(scenario).await;
        let restore_at = start.elapsed();
        println!("   restored at {:.1}s", restore_at.as_secs_f64());
        let recording = driver
            .await
            .map_err(|e| format!("the load driver failed: {e}"))?;
        let oha = match oha {
            Some(child) => Some(oha::finish(child, self.args.oha_rate).await?),
            None => None,
        };
        self.procs.stop(&service, Duration::from_secs(10)).await;
        broke?;
        repaired?;
        let (committed, balanced) = self.committed_orders(&run).await?;
        let orders = report::check_orders(&report::order_answers(&recording), &committed, balanced);
        let summary = report::summarise(
            scenario.name(),
            mode,
            self.args.rate,
            &recording,
            fault_at,
            restore_at,
            orders,
            brownout.then_some(&expect),
            oha,
        );
        let (timeline, per_route) = report::csv(&recording, total.as_secs());
        write(&self.args.out.join(format!("{run}.csv")), &timeline)?;
        write(&self.args.out.join(format!("{run}-routes.csv")), &per_route)?;
        write(
            &self.args.out.join(format!("{run}.json")),
            &serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?,
        )?;
        println!(
            "   {} requests, {:.2} % 2xx, {} x 503, {} other; p50 {:.1} ms p99 {:.1} ms max {:.0} ms; ungated 2xx {:.3} %; level {:?}, back to OPTIMAL {:?} s{}",
            summary.total.sent,
            summary.total.ok_share() * 100.0,
            summary.total.unavailable,
            summary.total.other,
            summary.total.p50_ms,
            summary.total.p99_ms,
            summary.total.max_ms,
            summary.ungated.ok_share() * 100.0,
            summary.level.at_restore,
            summary
                .level
                .back_to_optimal_s
                .map(|s| (s * 10.0).round() / 10.0),
            if summary.failures.is_empty() {
                String::new()
            } else {
                format!("\n   FAILED: {}", summary.failures.join("\n   FAILED: "))
            }
        );
        Ok(summary)
    }
}

fn write(path: &Path, contents: &str) -> Result<(), String> {
    std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Whether Redis answers `PING` on `port`.
async fn redis_ping(port: u16) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        stream.write_all(b"PING\r\n").await.ok()?;
        let mut buf = [0u8; 16];
        let n = stream.read(&mut buf).await.ok()?;
        Some(buf[..n].starts_with(b"+PONG"))
    };
    tokio::time::timeout(Duration::from_millis(500), attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// Lines of the logs that tell of a panic.
fn panics(logs: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(logs) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for line in text.lines().filter(|l| l.contains("panicked")) {
            found.push(format!("{}: {line}", path.display()));
        }
    }
    found
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match main_inner(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("chaos: error: {message}");
            ExitCode::from(2)
        }
    }
}

async fn main_inner(args: Args) -> Result<bool, String> {
    let scenarios: Vec<Scenario> = if args.scenarios.is_empty() {
        if args.short {
            Scenario::SHORT.to_vec()
        } else {
            Scenario::ALL.to_vec()
        }
    } else {
        args.scenarios
            .iter()
            .map(|s| Scenario::parse(s))
            .collect::<Result<_, _>>()?
    };
    if args.rate == 0 || args.rate > 5000 {
        return Err("--rate must be 1 to 5000".to_owned());
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let bin_dir = match &args.bin_dir {
        Some(dir) => dir.clone(),
        None => std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf))
            .ok_or("cannot find the binaries' directory; pass --bin-dir")?,
    };
    let procs = Procs::new(&args.work)?;
    let mut lab = Lab {
        pg_ctl: args.work.join("pg-ctl"),
        redis_port: free_port()?,
        llm: (free_port()?, free_port()?),
        objects: (free_port()?, free_port()?),
        client: load::client(),
        bin_dir,
        procs,
        pg_up: false,
        oha: None,
        args,
    };
    lab.oha = oha::find(&lab.args);
    match &lab.oha {
        Some(oha) => println!(
            "oha: {} req/s on GET /stock/{{sku}} beside the mix ({})",
            lab.args.oha_rate,
            oha.display()
        ),
        None => println!("oha: not used (not installed, or --no-oha)"),
    }
    let outcome = tokio::select! {
        outcome = everything(&mut lab, &scenarios) => outcome,
        _ = tokio::signal::ctrl_c() => Err("interrupted".to_owned()),
    };
    lab.procs.stop_all().await;
    if lab.pg_up {
        let _ = lab.pg(false).await;
    }
    let summaries = outcome?;

    // Outputs.
    let mut markdown = String::new();
    for scenario in &scenarios {
        let runs: Vec<&RunSummary> = summaries
            .iter()
            .filter(|s| s.scenario == scenario.name())
            .collect();
        markdown.push_str(&report::markdown(
            scenario.title(),
            &format!(
                "Scenario `{}`; with brownout the level should be {}{} at the end of the fault and back to OPTIMAL within {:.1} s of the restore.\n\n![{}](resilience/{}.png)",
                scenario.name(),
                if scenario.expect().exact { "" } else { "at most " },
                scenario.expect().level,
                scenario.expect().recovery_bound.as_secs_f64(),
                scenario.name(),
                scenario.name()
            ),
            &runs,
        ));
        markdown.push('\n');
    }
    let panics = panics(lab.procs.logs_dir());
    write(&lab.args.out.join("results.md"), &markdown)?;
    write(
        &lab.args.out.join("summary.json"),
        &serde_json::to_string_pretty(&serde_json::json!({
            "runs": summaries,
            "panics": panics,
        }))
        .map_err(|e| e.to_string())?,
    )?;
    let mut ok = true;
    println!("\n== results ({})", lab.args.out.display());
    for summary in &summaries {
        let verdict = match (summary.mode.as_str(), summary.failures.is_empty()) {
            ("brownout", true) => "pass".to_owned(),
            ("brownout", false) => {
                ok = false;
                format!("FAIL: {}", summary.failures.join("; "))
            }
            _ => "reported".to_owned(),
        };
        println!(
            "{:<12} {:<11} goodput {:>7.2} %  ungated {:>8.3} %  p99 {:>8.1} ms  max {:>7.0} ms  {verdict}",
            summary.scenario,
            summary.mode,
            summary.total.ok_share() * 100.0,
            summary.ungated.ok_share() * 100.0,
            summary.total.p99_ms,
            summary.total.max_ms,
        );
    }
    if !panics.is_empty() {
        ok = false;
        println!("FAIL: panics in the logs:\n{}", panics.join("\n"));
    }
    Ok(ok)
}

async fn everything(lab: &mut Lab, scenarios: &[Scenario]) -> Result<Vec<RunSummary>, String> {
    lab.pg(true).await?;
    lab.start_redis().await?;
    lab.start_upstreams().await?;
    let mut summaries = Vec::new();
    for scenario in scenarios {
        for brownout in [true, false] {
            summaries.push(lab.run(*scenario, brownout).await?);
        }
    }
    Ok(summaries)
}
