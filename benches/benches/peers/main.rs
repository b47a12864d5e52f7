//! brownout against its peers: the same paths, in the same run, on
//! the same machine, each library in one module of this directory next to the
//! bare baseline.
//!
//! Paths (criterion groups): `peers_closed_success`, `peers_open_rejection`,
//! `peers_tower_layer` (libraries that ship a tower layer) and
//! `peers_two_threads` (per call per thread). Each library is one bench id in
//! each group, named after its crate.
//!
//! Run: `cargo bench -p brownout-benches --bench peers` or `benches/peers.sh`
//! (short times, prints the table). Add a peer: one module exporting a
//! [`support::Peer`], one line in [`PEERS`].

#![allow(missing_docs)]

use criterion::{Bencher, Criterion, criterion_group, criterion_main};

/// Defaults for a direct `cargo bench`; `peers.sh` shortens them from the
/// command line (`--warm-up-time`, `--measurement-time`).
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

use support::Peer;

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

type Path = (&'static str, fn(&Peer) -> Option<fn(&mut Bencher<'_>)>);

const PATHS: &[Path] = &[
    ("closed_success", |p| Some(p.closed_success)),
    ("open_rejection", |p| Some(p.open_rejection)),
    ("tower_layer", |p| p.tower_layer),
    ("two_threads", |p| Some(p.two_threads)),
];

fn peers(c: &mut Criterion) {
    for (path, select) in PATHS {
        let mut group = c.benchmark_group(format!("peers_{path}"));
        for peer in PEERS {
            if let Some(bench) = select(peer) {
                support::overlap_reset();
                group.bench_function(peer.name, bench);
                if *path == "two_threads" {
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
