//! Statistics, assertions and outputs (CSV, JSON, markdown) of each run.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::load::{Answer, ROUTES, Recording, Sample};

/// Margin over a route's timeout before a wait counts as too long.
pub(crate) const TIMEOUT_MARGIN: Duration = Duration::from_millis(1000);
/// The p99 a shed request must stay under.
pub(crate) const SHED_P99_LIMIT: Duration = Duration::from_millis(10);
/// The share of ungated requests that must succeed through a single-dependency outage.
pub(crate) const UNGATED_MIN_SHARE: f64 = 0.999;

/// A latency quantile (nearest rank) of sorted `values`.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Counts and latencies of a set of requests.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Counts {
    /// Requests.
    pub(crate) sent: u64,
    /// 2xx answers.
    pub(crate) ok: u64,
    /// 503 answers.
    pub(crate) unavailable: u64,
    /// 503 answers that were not problem+json with a Retry-After.
    pub(crate) unavailable_not_problem: u64,
    /// Other statuses and transport failures.
    pub(crate) other: u64,
    /// No HTTP answer at all.
    pub(crate) transport: u64,
    /// Median latency, ms.
    pub(crate) p50_ms: f64,
    /// 99th percentile latency, ms.
    pub(crate) p99_ms: f64,
    /// Longest latency, ms.
    pub(crate) max_ms: f64,
    /// 99th percentile latency of the 503 answers, ms.
    pub(crate) unavailable_p99_ms: f64,
}

impl Counts {
    fn of<'a>(samples: impl Iterator<Item = &'a Sample>) -> Counts {
        let mut counts = Counts::default();
        let mut all = Vec::new();
        let mut unavailable = Vec::new();
        for s in samples {
            counts.sent += 1;
            all.push(s.latency);
            match s.answer {
                Answer::Ok => counts.ok += 1,
                Answer::Unavailable { problem } => {
                    counts.unavailable += 1;
                    unavailable.push(s.latency);
                    if !problem {
                        counts.unavailable_not_problem += 1;
                    }
                }
                Answer::Status(_) => counts.other += 1,
                Answer::Transport => {
                    counts.other += 1;
                    counts.transport += 1;
                }
            }
        }
        all.sort_unstable();
        unavailable.sort_unstable();
        counts.p50_ms = ms(quantile(&all, 0.50));
        counts.p99_ms = ms(quantile(&all, 0.99));
        counts.max_ms = ms(all.last().copied().unwrap_or_default());
        counts.unavailable_p99_ms = ms(quantile(&unavailable, 0.99));
        counts
    }

    /// Share of 2xx answers.
    pub(crate) fn ok_share(&self) -> f64 {
        if self.sent == 0 {
            1.0
        } else {
            #[allow(clippy::cast_precision_loss)]
            let share = self.ok as f64 / self.sent as f64;
            share
        }
    }
}

/// What the orders table says after a run.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Orders {
    /// Answered 201/200 (committed, by the service's word).
    pub(crate) accepted: u64,
    /// Answered 503, 409 or 400 (refused: nothing may be written).
    pub(crate) refused: u64,
    /// Answered another error or not at all (may or may not have committed).
    pub(crate) failed: u64,
    /// Rows with this run's keys in PostgreSQL.
    pub(crate) committed: u64,
    /// Accepted but not in PostgreSQL (must be 0).
    pub(crate) accepted_missing: u64,
    /// Refused but in PostgreSQL (must be 0).
    pub(crate) refused_written: u64,
    /// Failed answers whose order did commit.
    pub(crate) failed_committed: u64,
    /// Units taken from stock equal units ordered (nothing half-written).
    pub(crate) stock_balanced: bool,
}

/// The run's dependency outage, as seen by the level poller.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct LevelStory {
    /// Levels seen before the fault.
    pub(crate) before: Vec<String>,
    /// The lowest level seen during the fault.
    pub(crate) lowest_during: Option<String>,
    /// The level at the end of the fault.
    pub(crate) at_restore: Option<String>,
    /// Seconds from the restore to the first OPTIMAL poll that stayed
    /// OPTIMAL to the end.
    pub(crate) back_to_optimal_s: Option<f64>,
    /// The last level seen.
    pub(crate) last: Option<String>,
    /// How long after the fault started the level first left OPTIMAL.
    pub(crate) left_optimal_after_s: Option<f64>,
}

fn rank(level: &str) -> u8 {
    match level {
        "OPTIMAL" => 4,
        "DEGRADED" => 3,
        "LIMITED" => 2,
        "MINIMAL" => 1,
        _ => 0,
    }
}

/// The summary of one run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunSummary {
    /// Scenario name.
    pub(crate) scenario: String,
    /// `brownout` or `no-brownout`.
    pub(crate) mode: String,
    /// Requests per second.
    pub(crate) rate: u32,
    /// Seconds from the start to the fault, and to the restore.
    pub(crate) fault_at_s: f64,
    /// See `fault_at_s`.
    pub(crate) restore_at_s: f64,
    /// All routes together.
    pub(crate) total: Counts,
    /// Per route, in [`ROUTES`] order.
    pub(crate) routes: Vec<(String, Counts)>,
    /// The ungated routes together.
    pub(crate) ungated: Counts,
    /// The gated routes together.
    pub(crate) gated: Counts,
    /// The orders.
    pub(crate) orders: Orders,
    /// The level.
    pub(crate) level: LevelStory,
    /// Requests that waited longer than their route's timeout plus the margin.
    pub(crate) over_timeout: u64,
    /// The peak of requests in flight.
    pub(crate) peak_in_flight: i64,
    /// What `oha` saw on `GET /stock/{sku}`, if it ran.
    pub(crate) oha: Option<crate::oha::OhaSummary>,
    /// Failed assertions (brownout runs only).
    pub(crate) failures: Vec<String>,
}

/// What the scenario expects of a brownout run.
#[derive(Debug, Clone)]
pub(crate) struct Expect {
    /// The level while the fault lasts (or, unless `exact`, the highest
    /// level it may be at).
    pub(crate) level: &'static str,
    /// Whether the level must be exactly `level`.
    pub(crate) exact: bool,
    /// Longest time back to OPTIMAL after the restore.
    pub(crate) recovery_bound: Duration,
    /// Whether only one dependency fails (the ungated routes must keep answering).
    pub(crate) single_dependency: bool,
}

/// Summarises a run and checks the assertions (for a brownout run).
#[allow(clippy::too_many_arguments)]
pub(crate) fn summarise(
    scenario: &str,
    mode: &str,
    rate: u32,
    recording: &Recording,
    fault_at: Duration,
    restore_at: Duration,
    orders: Orders,
    expect: Option<&Expect>,
    oha: Option<crate::oha::OhaSummary>,
) -> RunSummary {
    let samples = &recording.samples;
    let routes: Vec<(String, Counts)> = ROUTES
        .iter()
        .enumerate()
        .map(|(i, r)| {
            (
                r.name.to_owned(),
                Counts::of(samples.iter().filter(|s| s.route == i)),
            )
        })
        .collect();
    let ungated = Counts::of(samples.iter().filter(|s| !ROUTES[s.route].gated));
    let gated = Counts::of(samples.iter().filter(|s| ROUTES[s.route].gated));
    let over_timeout = samples
        .iter()
        .filter(|s| s.latency > ROUTES[s.route].timeout + TIMEOUT_MARGIN)
        .count() as u64;

    let mut level = LevelStory::default();
    let mut lowest: Option<&str> = None;
    for poll in &recording.levels {
        let Some(l) = poll.level.as_deref() else {
            continue;
        };
        if poll.at < fault_at {
            if !level.before.iter().any(|b| b == l) {
                level.before.push(l.to_owned());
            }
        } else if poll.at <= restore_at {
            if lowest.is_none_or(|low| rank(l) < rank(low)) {
                lowest = Some(l);
            }
            if level.left_optimal_after_s.is_none() && l != "OPTIMAL" {
                level.left_optimal_after_s = Some((poll.at - fault_at).as_secs_f64());
            }
            level.at_restore = Some(l.to_owned());
        }
        level.last = Some(l.to_owned());
    }
    level.lowest_during = lowest.map(str::to_owned);
    // The first OPTIMAL after the restore that lasted to the end.
    let mut back: Option<Duration> = None;
    for poll in recording.levels.iter().filter(|p| p.at > restore_at) {
        match poll.level.as_deref() {
            Some("OPTIMAL") => {
                if back.is_none() {
                    back = Some(poll.at - restore_at);
                }
            }
            _ => back = None,
        }
    }
    level.back_to_optimal_s = back.map(|d| d.as_secs_f64());

    let mut failures = Vec::new();
    if let Some(expect) = expect {
        if over_timeout > 0 {
            failures.push(format!(
                "{over_timeout} requests waited longer than their route's timeout + {TIMEOUT_MARGIN:?}"
            ));
        }
        if let Some(oha) = &oha {
            if expect.single_dependency && oha.ok_share() < UNGATED_MIN_SHARE {
                failures.push(format!(
                    "oha: GET /stock answered {:.3} % 2xx (< {:.1} %)",
                    oha.ok_share() * 100.0,
                    UNGATED_MIN_SHARE * 100.0
                ));
            }
            if oha.slowest_ms > ms(ROUTES[0].timeout + TIMEOUT_MARGIN) {
                failures.push(format!(
                    "oha: a GET /stock request took {:.0} ms",
                    oha.slowest_ms
                ));
            }
        }
        if expect.single_dependency && ungated.ok_share() < UNGATED_MIN_SHARE {
            failures.push(format!(
                "ungated routes answered {:.3} % successfully (< {:.1} %)",
                ungated.ok_share() * 100.0,
                UNGATED_MIN_SHARE * 100.0
            ));
        }
        let all = Counts::of(samples.iter());
        if all.unavailable_not_problem > 0 {
            failures.push(format!(
                "{} of {} 503 answers lacked problem+json or Retry-After",
                all.unavailable_not_problem, all.unavailable
            ));
        }
        if gated.unavailable > 0 && gated.unavailable_p99_ms > ms(SHED_P99_LIMIT) {
            failures.push(format!(
                "shed (503) p99 {:.1} ms ≥ {} ms",
                gated.unavailable_p99_ms,
                SHED_P99_LIMIT.as_millis()
            ));
        }
        if orders.accepted_missing > 0 {
            failures.push(format!(
                "{} accepted orders are missing in PostgreSQL",
                orders.accepted_missing
            ));
        }
        if orders.refused_written > 0 {
            failures.push(format!(
                "{} refused orders were written",
                orders.refused_written
            ));
        }
        if !orders.stock_balanced {
            failures.push("stock taken ≠ units ordered (a half-written checkout)".to_owned());
        }
        if level.before.iter().any(|l| l != "OPTIMAL") || level.before.is_empty() {
            failures.push(format!(
                "level before the fault was {:?}, expected OPTIMAL",
                level.before
            ));
        }
        let as_expected = level.at_restore.as_deref().is_some_and(|l| {
            if expect.exact {
                l == expect.level
            } else {
                rank(l) <= rank(expect.level)
            }
        });
        if !as_expected {
            failures.push(format!(
                "level at the end of the fault was {:?}, expected {}{} (lowest {:?})",
                level.at_restore,
                if expect.exact { "" } else { "at most " },
                expect.level,
                level.lowest_during
            ));
        }
        match level.back_to_optimal_s {
            Some(s) if s <= expect.recovery_bound.as_secs_f64() => {}
            Some(s) => failures.push(format!(
                "back to OPTIMAL {s:.1} s after the restore (> {:.1} s)",
                expect.recovery_bound.as_secs_f64()
            )),
            None => failures.push(format!(
                "not back to OPTIMAL by the end of the run (last {:?})",
                level.last
            )),
        }
    }
    RunSummary {
        scenario: scenario.to_owned(),
        mode: mode.to_owned(),
        rate,
        fault_at_s: fault_at.as_secs_f64(),
        restore_at_s: restore_at.as_secs_f64(),
        total: Counts::of(samples.iter()),
        routes,
        ungated,
        gated,
        orders,
        level,
        over_timeout,
        peak_in_flight: recording.in_flight.iter().copied().max().unwrap_or(0),
        oha,
        failures,
    }
}

/// The orders' answers, by request number.
pub(crate) fn order_answers(recording: &Recording) -> Vec<(u64, Answer)> {
    recording
        .samples
        .iter()
        .filter(|s| ROUTES[s.route].name == "orders")
        .map(|s| (s.n, s.answer))
        .collect()
}

/// Compares the orders' answers with the keys committed in PostgreSQL.
pub(crate) fn check_orders(
    answers: &[(u64, Answer)],
    committed: &BTreeSet<u64>,
    stock_balanced: bool,
) -> Orders {
    let mut orders = Orders {
        committed: committed.len() as u64,
        stock_balanced,
        ..Orders::default()
    };
    for (n, answer) in answers {
        let written = committed.contains(n);
        match answer {
            Answer::Ok => {
                orders.accepted += 1;
                if !written {
                    orders.accepted_missing += 1;
                }
            }
            Answer::Unavailable { .. } | Answer::Status(400 | 409) => {
                orders.refused += 1;
                if written {
                    orders.refused_written += 1;
                }
            }
            Answer::Status(_) | Answer::Transport => {
                orders.failed += 1;
                if written {
                    orders.failed_committed += 1;
                }
            }
        }
    }
    orders
}

/// The per-second CSVs of a run: the timeline (all routes) and per route.
pub(crate) fn csv(recording: &Recording, seconds: u64) -> (String, String) {
    let levels = &recording.levels;
    let mut timeline = String::from(
        "second,level,score,in_flight,sent,ok,unavailable,other,p50_ms,p99_ms,max_ms\n",
    );
    let mut per_route =
        String::from("second,route,sent,ok,unavailable,other,p50_ms,p99_ms,max_ms\n");
    for second in 0..seconds {
        let window = Duration::from_secs(second)..Duration::from_secs(second + 1);
        let in_second = || {
            recording
                .samples
                .iter()
                .filter(|s| window.contains(&s.sent))
        };
        let all = Counts::of(in_second());
        let last = levels.iter().rev().find(|p| window.contains(&p.at));
        let in_flight = usize::try_from(second)
            .ok()
            .and_then(|i| recording.in_flight.get(i))
            .copied()
            .unwrap_or(0);
        let _ = writeln!(
            timeline,
            "{second},{},{},{in_flight},{},{},{},{},{:.2},{:.2},{:.2}",
            last.and_then(|p| p.level.clone()).unwrap_or_default(),
            last.and_then(|p| p.score)
                .map(|s| format!("{s:.1}"))
                .unwrap_or_default(),
            all.sent,
            all.ok,
            all.unavailable,
            all.other,
            all.p50_ms,
            all.p99_ms,
            all.max_ms
        );
        for (i, route) in ROUTES.iter().enumerate() {
            let c = Counts::of(in_second().filter(|s| s.route == i));
            let _ = writeln!(
                per_route,
                "{second},{},{},{},{},{},{:.2},{:.2},{:.2}",
                route.name, c.sent, c.ok, c.unavailable, c.other, c.p50_ms, c.p99_ms, c.max_ms
            );
        }
    }
    (timeline, per_route)
}

fn pct(share: f64) -> String {
    format!("{:.2} %", share * 100.0)
}

/// A markdown table comparing the runs of one scenario.
pub(crate) fn markdown(title: &str, what: &str, runs: &[&RunSummary]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### {title}\n\n{what}\n");
    let _ = writeln!(out, "| | brownout | no-brownout |\n|---|---|---|");
    let get = |mode: &str| runs.iter().find(|r| r.mode == mode);
    let row = |out: &mut String, name: &str, f: &dyn Fn(&RunSummary) -> String| {
        let cell = |mode: &str| get(mode).map_or_else(|| "–".to_owned(), |r| f(r));
        let _ = writeln!(
            out,
            "| {name} | {} | {} |",
            cell("brownout"),
            cell("no-brownout")
        );
    };
    row(&mut out, "requests (rate)", &|r| {
        format!("{} ({}/s)", r.total.sent, r.rate)
    });
    row(&mut out, "goodput (2xx share)", &|r| {
        pct(r.total.ok_share())
    });
    row(&mut out, "ungated routes (stock, stores) 2xx", &|r| {
        pct(r.ungated.ok_share())
    });
    row(
        &mut out,
        "oha on GET /stock: requests (rate), 2xx, p50 / p99 / max",
        &|r| {
            r.oha.as_ref().map_or_else(
                || "–".to_owned(),
                |o| {
                    format!(
                        "{} ({}/s), {}, {:.1} / {:.1} / {:.0} ms",
                        o.responses + o.errors,
                        o.rate,
                        pct(o.ok_share()),
                        o.p50_ms,
                        o.p99_ms,
                        o.slowest_ms
                    )
                },
            )
        },
    );
    row(&mut out, "503 answers (problem+json)", &|r| {
        format!(
            "{} ({} without)",
            r.total.unavailable, r.total.unavailable_not_problem
        )
    });
    row(&mut out, "other errors (of which no answer)", &|r| {
        format!("{} ({})", r.total.other, r.total.transport)
    });
    row(&mut out, "latency p50 / p99 / max", &|r| {
        format!(
            "{:.1} / {:.1} / {:.0} ms",
            r.total.p50_ms, r.total.p99_ms, r.total.max_ms
        )
    });
    row(&mut out, "ungated p99 / max", &|r| {
        format!("{:.1} / {:.0} ms", r.ungated.p99_ms, r.ungated.max_ms)
    });
    row(&mut out, "503 p99", &|r| {
        if r.total.unavailable == 0 {
            "–".to_owned()
        } else {
            format!("{:.2} ms", r.total.unavailable_p99_ms)
        }
    });
    row(&mut out, "over route timeout + 1 s", &|r| {
        r.over_timeout.to_string()
    });
    row(&mut out, "peak in flight", &|r| {
        r.peak_in_flight.to_string()
    });
    row(
        &mut out,
        "orders accepted / committed / refused / failed (committed)",
        &|r| {
            format!(
                "{} / {} / {} / {} ({})",
                r.orders.accepted,
                r.orders.committed,
                r.orders.refused,
                r.orders.failed,
                r.orders.failed_committed
            )
        },
    );
    row(&mut out, "level during the fault", &|r| {
        r.level.at_restore.clone().unwrap_or_else(|| "–".to_owned())
    });
    row(&mut out, "left OPTIMAL after the fault began", &|r| {
        r.level
            .left_optimal_after_s
            .map_or_else(|| "–".to_owned(), |s| format!("{s:.2} s"))
    });
    row(&mut out, "back to OPTIMAL after the restore", &|r| {
        r.level
            .back_to_optimal_s
            .map_or_else(|| "–".to_owned(), |s| format!("{s:.1} s"))
    });
    row(&mut out, "assertions", &|r| {
        if r.mode != "brownout" {
            "reported only".to_owned()
        } else if r.failures.is_empty() {
            "pass".to_owned()
        } else {
            format!("FAIL: {}", r.failures.join("; "))
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let values: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile(&values, 0.5), Duration::from_millis(50));
        assert_eq!(quantile(&values, 0.99), Duration::from_millis(99));
        assert_eq!(quantile(&values, 1.0), Duration::from_millis(100));
        assert_eq!(quantile(&[], 0.99), Duration::ZERO);
    }

    #[test]
    fn orders_are_audited_against_the_database() {
        let answers = [
            (1, Answer::Ok),
            (2, Answer::Unavailable { problem: true }),
            (3, Answer::Status(504)),
            (4, Answer::Ok),
            (5, Answer::Status(409)),
        ];
        let committed: BTreeSet<u64> = [1, 3].into_iter().collect();
        let orders = check_orders(&answers, &committed, true);
        assert_eq!(orders.accepted, 2);
        assert_eq!(
            orders.accepted_missing, 1,
            "order 4 answered 201 but is missing"
        );
        assert_eq!(orders.refused, 2);
        assert_eq!(orders.refused_written, 0);
        assert_eq!((orders.failed, orders.failed_committed), (1, 1));
        let committed: BTreeSet<u64> = [1, 2, 4].into_iter().collect();
        assert_eq!(check_orders(&answers, &committed, true).refused_written, 1);
    }
}
