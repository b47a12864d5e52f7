//! The quorum rule, pure: which dependencies the live fleet reports open.

use std::collections::BTreeMap;

use crate::wire::ReportedState;

/// One replica's breakers, as the quorum sees them.
#[derive(Debug, Clone)]
pub(crate) struct Vote<'a> {
    pub(crate) replica: &'a str,
    pub(crate) breakers: &'a BTreeMap<String, ReportedState>,
}

/// The fleet's verdict on one dependency.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Verdict {
    pub(crate) dependency: String,
    /// The replicas that report it open on their own evidence, in id order.
    pub(crate) open: Vec<String>,
    /// The live replicas that report the dependency at all (this one included).
    pub(crate) reporting: usize,
    /// `open / reporting`.
    pub(crate) share: f64,
    /// Whether the quorum is reached: `open ≥ min_replicas` and `share ≥ quorum`.
    pub(crate) reached: bool,
}

/// The verdict on each of `dependencies` (this replica's, in order), over
/// `votes` (this replica's fresh view and every live peer's).
pub(crate) fn decide<'a>(
    dependencies: impl IntoIterator<Item = &'a str>,
    votes: &[Vote<'_>],
    quorum: f64,
    min_replicas: usize,
) -> Vec<Verdict> {
    dependencies
        .into_iter()
        .map(|dependency| {
            let mut open = Vec::new();
            let mut reporting = 0_usize;
            for vote in votes {
                if let Some(state) = vote.breakers.get(dependency) {
                    reporting += 1;
                    if state.counts_as_open() {
                        open.push(vote.replica.to_owned());
                    }
                }
            }
            open.sort();
            #[allow(clippy::cast_precision_loss)] // replica counts are small
            let share = if reporting == 0 {
                0.0
            } else {
                open.len() as f64 / reporting as f64
            };
            let reached = open.len() >= min_replicas && share + 1e-9 >= quorum;
            Verdict {
                dependency: dependency.to_owned(),
                open,
                reporting,
                share,
                reached,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReportedState::{Closed, HalfOpen, Open, OpenByPeers};

    fn view(states: &[(&str, ReportedState)]) -> BTreeMap<String, ReportedState> {
        states.iter().map(|(n, s)| ((*n).to_owned(), *s)).collect()
    }

    fn run(views: &[BTreeMap<String, ReportedState>], quorum: f64, min: usize) -> Verdict {
        let names: Vec<String> = (0..views.len()).map(|i| format!("r{i}")).collect();
        let votes: Vec<Vote<'_>> = views
            .iter()
            .zip(&names)
            .map(|(breakers, replica)| Vote { replica, breakers })
            .collect();
        decide(["db"], &votes, quorum, min).remove(0)
    }

    #[test]
    fn one_bad_replica_is_not_a_quorum() {
        let v = run(&[view(&[("db", Open)]), view(&[("db", Closed)])], 0.5, 2);
        assert_eq!(v.open, ["r0"]);
        assert_eq!(v.share, 0.5);
        assert!(!v.reached, "the share is met, the count is not");
        // With min_replicas = 1 it would be.
        assert!(run(&[view(&[("db", Open)]), view(&[("db", Closed)])], 0.5, 1).reached);
    }

    #[test]
    fn the_share_counts_every_reporting_replica() {
        let open = view(&[("db", Open)]);
        let closed = view(&[("db", Closed)]);
        let v = run(
            &[open.clone(), open.clone(), closed.clone(), closed.clone()],
            0.5,
            2,
        );
        assert!(v.reached);
        assert_eq!(v.reporting, 4);
        let v = run(
            &[open.clone(), open, closed.clone(), closed.clone(), closed],
            0.5,
            2,
        );
        assert!(!v.reached, "2 of 5 is under half");
    }

    #[test]
    fn peer_trips_half_open_and_missing_reports_do_not_vote() {
        let v = run(
            &[
                view(&[("db", Open)]),
                view(&[("db", OpenByPeers)]),
                view(&[("db", HalfOpen)]),
                view(&[("other", Open)]),
            ],
            0.3,
            1,
        );
        assert_eq!(v.open, ["r0"]);
        assert_eq!(v.reporting, 3, "r3 does not know db");
        assert!(v.reached);
        let v = run(
            &[view(&[("db", OpenByPeers)]), view(&[("db", OpenByPeers)])],
            0.5,
            1,
        );
        assert!(!v.reached, "a quorum cannot keep itself alive");
    }
}
