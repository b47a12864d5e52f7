//! `oha`, a real load generator, in the loop: constant-rate load on the
//! ungated `GET /stock/{sku}` beside the driver's mix, its JSON summary
//! folded into the run's.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::Serialize;
use tokio::process::{Child, Command};

/// What `oha` saw.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct OhaSummary {
    /// Requests per second asked of it.
    pub(crate) rate: u32,
    /// HTTP answers.
    pub(crate) responses: u64,
    /// 2xx answers.
    pub(crate) ok: u64,
    /// Requests without an answer (not counting those cut by the end of the run).
    pub(crate) errors: u64,
    /// Latency percentiles, ms (with oha's latency correction).
    pub(crate) p50_ms: f64,
    /// See `p50_ms`.
    pub(crate) p99_ms: f64,
    /// The slowest request, ms.
    pub(crate) slowest_ms: f64,
}

impl OhaSummary {
    /// Share of requests answered 2xx.
    pub(crate) fn ok_share(&self) -> f64 {
        let all = self.responses + self.errors;
        if all == 0 {
            0.0
        } else {
            #[allow(clippy::cast_precision_loss)]
            let share = self.ok as f64 / all as f64;
            share
        }
    }
}

/// The `oha` to use: `--oha`, or `oha` on the PATH; none with `--no-oha`.
pub(crate) fn find(args: &crate::Args) -> Option<PathBuf> {
    if args.no_oha {
        return None;
    }
    if let Some(oha) = &args.oha {
        return Some(oha.clone());
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("oha"))
            .find(|candidate| candidate.is_file())
    })
}

/// Starts `oha` for `duration` at `rate` requests per second.
pub(crate) fn start(
    oha: &Path,
    base: &str,
    rate: u32,
    duration: Duration,
) -> Result<Child, String> {
    Command::new(oha)
        .args([
            "-z",
            &format!("{}s", duration.as_secs()),
            "-q",
            &rate.to_string(),
            "-c",
            "64",
            "-t",
            "30s",
            "--latency-correction",
            "--no-tui",
            "--output-format",
            "json",
            "--rand-regex-url",
            &format!("{base}/stock/[1-9][0-9]{{0,2}}"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", oha.display()))
}

/// Waits for `oha` and reads its summary.
pub(crate) async fn finish(child: Child, rate: u32) -> Result<OhaSummary, String> {
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .map_err(|_| "oha did not finish".to_owned())?
        .map_err(|e| format!("oha: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "oha failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    parse(&output.stdout, rate)
}

fn parse(json: &[u8], rate: u32) -> Result<OhaSummary, String> {
    let value: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| format!("oha's JSON: {e}"))?;
    let mut summary = OhaSummary {
        rate,
        ..OhaSummary::default()
    };
    if let Some(codes) = value["statusCodeDistribution"].as_object() {
        for (code, count) in codes {
            let count = count.as_u64().unwrap_or(0);
            summary.responses += count;
            if code.starts_with('2') {
                summary.ok += count;
            }
        }
    }
    if let Some(errors) = value["errorDistribution"].as_object() {
        summary.errors = errors
            .iter()
            .filter(|(kind, _)| !kind.contains("deadline"))
            .map(|(_, count)| count.as_u64().unwrap_or(0))
            .sum();
    }
    let ms = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN) * 1000.0;
    summary.p50_ms = ms(&value["latencyPercentiles"]["p50"]);
    summary.p99_ms = ms(&value["latencyPercentiles"]["p99"]);
    summary.slowest_ms = ms(&value["summary"]["slowest"]);
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_summary_of_oha() {
        let json = br#"{"summary": {"slowest": 0.25},
            "latencyPercentiles": {"p50": 0.001, "p99": 0.02},
            "statusCodeDistribution": {"200": 990, "503": 10},
            "errorDistribution": {"aborted due to deadline": 3, "connection refused": 1}}"#;
        let summary = parse(json, 50).expect("parses");
        assert_eq!(
            (summary.responses, summary.ok, summary.errors),
            (1000, 990, 1)
        );
        assert!((summary.p99_ms - 20.0).abs() < 1e-9);
        assert!((summary.slowest_ms - 250.0).abs() < 1e-9);
        assert!((summary.ok_share() - 990.0 / 1001.0).abs() < 1e-12);
    }
}
