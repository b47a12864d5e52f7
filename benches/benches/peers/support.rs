//! What every peer module shares: the protected operation, the two-thread
//! driver and the tower request (the executor is the benches' one,
//! `executor.rs`).

use std::fmt;
use std::hint::black_box;
use std::sync::Barrier;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use criterion::Bencher;
use tower::{Service, ServiceExt};

pub(crate) use crate::executor::block_on;

/// Recovery (open) timeout for every peer: long enough that the open path
/// stays open for the whole run.
pub(crate) const RECOVERY: Duration = Duration::from_secs(3600);

/// Consecutive failures that open a breaker, for every peer that offers the
/// policy (brownout's default).
pub(crate) const THRESHOLD: u32 = 5;

/// The operation's error: a unit type that implements `std::error::Error`,
/// which `circuitbreaker-rs` requires, used by every peer alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fail;

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("dependency failed")
    }
}

impl std::error::Error for Fail {}

/// The protected operation, succeeding.
#[inline]
pub(crate) fn work() -> Result<u64, Fail> {
    Ok(black_box(42))
}

/// The protected operation, failing (used to open breakers).
#[inline]
pub(crate) fn fail() -> Result<u64, Fail> {
    Err(black_box(Fail))
}

/// One request through a tower service, as a tower client sends it:
/// `ready().await` then `call().await`, driven by [`block_on`].
pub(crate) fn request<S>(svc: &mut S, n: u64) -> Result<u64, S::Error>
where
    S: Service<u64, Response = u64>,
{
    block_on(async { svc.ready().await?.call(n).await })
}

/// The bare tower service every layer wraps: request `0` fails (used to open
/// breakers), any other succeeds at the first poll.
pub(crate) fn bare_service()
-> impl Service<u64, Response = u64, Error = Fail, Future: Send> + Clone + Send + Sync + 'static {
    tower::service_fn(|n: u64| async move { if n == 0 { Err(Fail) } else { Ok(black_box(n)) } })
}

/// Thread CPU time and wall time summed over a bench's two-thread runs (the
/// slower thread's CPU time against the slowest thread's wall time).
static CPU_NS: AtomicU64 = AtomicU64::new(0);
static WALL_NS: AtomicU64 = AtomicU64::new(0);

fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// Starts counting how much of the next bench's two threads ran at once.
pub(crate) fn overlap_reset() {
    CPU_NS.store(0, Ordering::Relaxed);
    WALL_NS.store(0, Ordering::Relaxed);
}

/// The share of wall time both threads were on a CPU since
/// [`overlap_reset`]: near 1.0 when they really ran in parallel, near 0.5
/// when they shared one core (another process held the other one), in which
/// case the contention being measured did not happen.
pub(crate) fn overlap() -> f64 {
    let wall = WALL_NS.load(Ordering::Relaxed);
    if wall == 0 {
        return 0.0;
    }
    CPU_NS.load(Ordering::Relaxed) as f64 / wall as f64
}

/// Runs `iters` calls on each of two threads at once, released together by a
/// barrier; returns the slowest thread's time, i.e. the time per call per
/// thread times `iters`. Each thread gets its own `state`, made on that thread
/// before the barrier (a clone of a handle to the one shared breaker, for
/// peers whose handles need `&mut`; it may hold a thread-bound guard).
#[allow(clippy::disallowed_methods)] // benches time themselves with the real clock
pub(crate) fn two_threads<T, F>(b: &mut Bencher<'_>, make: impl Fn() -> T + Sync, f: F)
where
    F: Fn(&mut T) + Sync,
{
    b.iter_custom(|iters| {
        let barrier = Barrier::new(2);
        let runs: Vec<(Duration, Duration)> = thread::scope(|s| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    let (barrier, make, f) = (&barrier, &make, &f);
                    s.spawn(move || {
                        let mut state = make();
                        barrier.wait();
                        let cpu = thread_cpu();
                        let start = std::time::Instant::now();
                        for _ in 0..iters {
                            f(&mut state);
                        }
                        (start.elapsed(), thread_cpu().saturating_sub(cpu))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("bench thread"))
                .collect()
        });
        let wall = runs.iter().map(|r| r.0).max().unwrap_or_default();
        let cpu = runs.iter().map(|r| r.1).min().unwrap_or_default();
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        CPU_NS.fetch_add(nanos(cpu), Ordering::Relaxed);
        WALL_NS.fetch_add(nanos(wall), Ordering::Relaxed);
        wall
    });
}

/// One bench function: one library on one path.
pub(crate) type Bench = fn(&mut Bencher<'_>);

/// One library's benches: one function per path, `None` where the library
/// has no such API (no tower layer, no manual open, ...): "-" in the table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer {
    /// The crate name, as in `Cargo.lock` (`bare` for the baseline).
    pub(crate) name: &'static str,
    /// Closed-state success: the library's call API around [`work`].
    pub(crate) closed_success: Bench,
    /// Open-state rejection through the same API.
    pub(crate) open_rejection: Bench,
    /// Two threads calling one closed breaker, per call per thread.
    pub(crate) two_threads: Bench,
    /// One request through the library's tower layer over [`bare_service`].
    pub(crate) tower_layer: Option<Bench>,
    /// Closed-state success through the library's own async API around
    /// `async { work() }`, driven by [`block_on`].
    pub(crate) closed_success_async: Option<Bench>,
    /// Open-state rejection through the same async API.
    pub(crate) open_rejection_async: Option<Bench>,
    /// Rejection by a breaker opened by hand (the library's manual open).
    pub(crate) forced_open: Option<Bench>,
    /// The same, two threads on one forced-open breaker, per call per thread.
    pub(crate) forced_open_two_threads: Option<Bench>,
    /// Rejection by a half-open breaker whose only trial slot is held.
    pub(crate) half_open_full: Option<Bench>,
    /// The same, two threads, per call per thread.
    pub(crate) half_open_full_two_threads: Option<Bench>,
    /// A feature check through a handle resolved in advance.
    pub(crate) gate: Option<Bench>,
    /// A feature check by name.
    pub(crate) gate_by_name: Option<Bench>,
}

impl Peer {
    /// A library with the three rows every library has, and none of the
    /// optional ones: each module adds what it ships with `..Peer::new(..)`.
    pub(crate) const fn new(
        name: &'static str,
        closed_success: Bench,
        open_rejection: Bench,
        two_threads: Bench,
    ) -> Peer {
        Peer {
            name,
            closed_success,
            open_rejection,
            two_threads,
            tower_layer: None,
            closed_success_async: None,
            open_rejection_async: None,
            forced_open: None,
            forced_open_two_threads: None,
            half_open_full: None,
            half_open_full_two_threads: None,
            gate: None,
            gate_by_name: None,
        }
    }
}
