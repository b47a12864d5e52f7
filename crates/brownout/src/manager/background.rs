//! The background task (feature `tokio`): probes as half-open trials, and
//! time-driven level changes on time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

use super::core::Core;
use crate::breaker::Breaker;
use crate::clock::Nanos;
use crate::state::BreakerState;

/// The longest the task sleeps without looking again (bounds the effect of a
/// clock the task cannot see move, such as a `ManualClock`).
const MAX_IDLE: Duration = Duration::from_secs(1);

/// Handle to the task started by
/// [`DegradationManager::spawn_background`](crate::DegradationManager::spawn_background).
///
/// [`shutdown`](Background::shutdown) stops the task and every probe it is
/// running and waits until they are gone. Dropping the handle aborts them
/// without waiting. A probe stopped mid-trial records nothing and gives its
/// half-open slot back.
#[derive(Debug)]
#[must_use = "dropping the handle stops the background task"]
pub struct Background {
    task: Option<JoinHandle<()>>,
    stop: Arc<Notify>,
}

impl Background {
    pub(crate) fn spawn(core: Arc<Core>, runtime: &tokio::runtime::Handle) -> Background {
        let stop = Arc::new(Notify::new());
        let task = runtime.spawn(drive(core, Arc::clone(&stop)));
        Background {
            task: Some(task),
            stop,
        }
    }

    /// Stops the task and its probes, and waits until they have finished.
    pub async fn shutdown(mut self) {
        if let Some(task) = self.task.take() {
            self.stop.notify_one();
            // The task only ends by returning or by being aborted.
            let _ = task.await;
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// What the task does about one dependency with a probe.
enum Due {
    Now(Run),
    At(Nanos),
    Never,
}

/// How the probe runs.
#[derive(Clone, Copy)]
enum Run {
    /// As the half-open trials, until the breaker closes or re-opens.
    Trials,
    /// As a check of a closed breaker (`probe_interval`).
    Check,
}

/// When each closed breaker with a `probe_interval` is next checked.
type Checks = Vec<(Breaker, Nanos)>;

fn due(breaker: &Breaker, interval: Option<Duration>, checks: &mut Checks, now: Nanos) -> Due {
    match breaker.state() {
        BreakerState::HalfOpen => Due::Now(Run::Trials),
        BreakerState::Open => match breaker.open_until() {
            Some(until) if until > now => Due::At(until),
            _ => Due::Now(Run::Trials),
        },
        BreakerState::Closed => match interval {
            Some(interval) => check_due(breaker, interval, checks, now),
            None => Due::Never,
        },
        _ => Due::Never,
    }
}

/// A closed breaker's next check: the first one an interval after the task
/// first sees it, then one every interval.
fn check_due(breaker: &Breaker, interval: Duration, checks: &mut Checks, now: Nanos) -> Due {
    let slot = match checks.iter().position(|(b, _)| b.same_as(breaker)) {
        Some(i) => i,
        None => {
            checks.push((breaker.clone(), now.saturating_add(interval)));
            checks.len() - 1
        }
    };
    let next = &mut checks[slot].1;
    if now >= *next {
        *next = now.saturating_add(interval);
        Due::Now(Run::Check)
    } else {
        Due::At(*next)
    }
}

async fn drive(core: Arc<Core>, stop: Arc<Notify>) {
    let mut probes = JoinSet::new();
    // Keyed by breaker, not by position: a reload may add or remove dependencies.
    let mut running: HashMap<tokio::task::Id, Breaker> = HashMap::new();
    // Dependencies whose last probe found no free trial slot wait for the
    // next wake-up instead of spinning.
    let mut stalled: Vec<Breaker> = Vec::new();
    let mut checks: Checks = Vec::new();
    loop {
        core.refresh_if_due();
        let topology = core.topology_full();
        for dependency in &topology.dependencies {
            dependency.breaker.flush_metrics();
        }
        let now = core.clock.now();
        let mut wake_at = core.next_due();
        for dependency in &topology.dependencies {
            let Some(probe) = dependency.probe.clone() else {
                continue;
            };
            let breaker = &dependency.breaker;
            let busy = |b: &Breaker| b.same_as(breaker);
            if stalled.iter().any(busy) || running.values().any(busy) {
                continue;
            }
            match due(breaker, dependency.probe_interval, &mut checks, now) {
                Due::Now(run) => {
                    let trial = breaker.clone();
                    let handle = probes.spawn(async move {
                        match run {
                            Run::Trials => probe.run_trials(&trial).await,
                            Run::Check => probe.check_closed(&trial).await,
                        }
                    });
                    running.insert(handle.id(), breaker.clone());
                }
                Due::At(at) => wake_at = Some(wake_at.map_or(at, |w| w.min(at))),
                Due::Never => {}
            }
        }
        checks.retain(|(b, _)| topology.dependencies.iter().any(|d| d.breaker.same_as(b)));
        drop(topology);
        let sleep = wake_at.map_or(MAX_IDLE, |at| at.saturating_since(now).min(MAX_IDLE));
        tokio::select! {
            biased;
            () = stop.notified() => {
                probes.shutdown().await;
                return;
            }
            Some(done) = probes.join_next_with_id(), if !probes.is_empty() => {
                let (id, ran) = match done {
                    Ok((id, ran)) => (id, ran),
                    // A panicking probe counted as a failed trial (its permit
                    // recorded the failure while unwinding).
                    Err(error) => (error.id(), true),
                };
                if let Some(breaker) = running.remove(&id)
                    && !ran
                {
                    stalled.push(breaker);
                }
            }
            () = core.wake.notified() => stalled.clear(),
            () = tokio::time::sleep(sleep) => stalled.clear(),
        }
    }
}
