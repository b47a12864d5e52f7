//! brownout against its peers: the same paths, in the same run, on
//! the same machine, each library in one module of this directory next to the
//! bare baseline.
//!
//! Paths (criterion groups, `peers_<path>`): `closed_success`,
//! `open_rejection`, `tower_layer` (libraries that ship a tower layer),
//! `two_threads` (per call per thread); `closed_success_async` and
//! `open_rejection_async` (each library's own async API, all driven by the
//! same no-op-waker executor, next to the bare `async { work() }`);
//! `forced_open` and `forced_open_two_threads` (libraries with a manual
//! open); `half_open_full` and `half_open_full_two_threads` (brownout alone,
//! informational); `gate` and `gate_by_name` (brownout alone: no peer has
//! feature gates, so the baseline is a bare `AtomicBool` load). Each library
//! is one bench id in each group, named after its crate.
//!
//! Run: `cargo bench -p brownout-benches --bench peers` or `benches/peers.sh`
//! (short times, prints the tables). Add a peer: one module exporting a
//! [`support::Peer`], one line in [`PEERS`].

#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};

/// Defaults for a direct `cargo bench`; `peers.sh` shortens them from the
/// command line (`--warm-up-time`, `--measurement-time`).
#[path = "../executor.rs"]
mod executor;
#[path = "../settings.rs"]
mod settings;
mod support;

mod bare;
mod brownout;
mod circuitbreaker_rs;
mod failsafe;
mod recloser;
mod seatbelt;
mod tower_resilience;

use support::{Bench, Peer};

/// The baseline first, then brownout, then the peers.
const PEERS: &[Peer] = &[
    self::bare::PEER,
    self::brownout::PEER,
    self::failsafe::PEER,
    self::recloser::PEER,
    self::tower_resilience::PEER,
    self::circuitbreaker_rs::PEER,
    self::seatbelt::PEER,
];

type Path = (&'static str, fn(&Peer) -> Option<Bench>);

/// Every path, in the order of the table; a path whose name ends in
/// `two_threads` runs on two threads and reports their overlap.
const PATHS: &[Path] = &[
    ("closed_success", |p| Some(p.closed_success)),
    ("open_rejection", |p| Some(p.open_rejection)),
    ("tower_layer", |p| p.tower_layer),
    ("two_threads", |p| Some(p.two_threads)),
    ("closed_success_async", |p| p.closed_success_async),
    ("open_rejection_async", |p| p.open_rejection_async),
    ("forced_open", |p| p.forced_open),
    ("forced_open_two_threads", |p| p.forced_open_two_threads),
    ("half_open_full", |p| p.half_open_full),
    ("half_open_full_two_threads", |p| {
        p.half_open_full_two_threads
    }),
    ("gate", |p| p.gate),
    ("gate_by_name", |p| p.gate_by_name),
];

fn peers(c: &mut Criterion) {
    for (path, select) in PATHS {
        let mut group = c.benchmark_group(format!("peers_{path}"));
        for peer in PEERS {
            if let Some(bench) = select(peer) {
                support::overlap_reset();
                group.bench_function(peer.name, bench);
                if path.ends_with("two_threads") {
                    // Read by peers.sh: did the two threads really run at once?
                    println!(
                        "overlap peers_{path}/{} {:.3}",
                        peer.name,
                        support::overlap()
                    );
                }
            }
        }
        group.finish();
    }
}

criterion_group! {
    name = all;
    config = settings::config();
    targets = peers
}
criterion_main!(all);
