//! A replica's side: the background task that heartbeats, applies the
//! fleet override and acts on the quorum. Nothing here runs on the call path.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use brownout::{BreakerState, DegradationManager, Level, TripCause};
use futures_util::StreamExt;
use parking_lot::Mutex;
use redis::aio::PubSubStream;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::config::{FleetConfig, OnUnreachable};
use crate::conn::Link;
use crate::error::FleetError;
use crate::operator::{FleetOperator, FleetOverride, FleetRead, read_fleet};
use crate::quorum::{Vote, decide};
use crate::status::{
    DecisionAction, FleetOverrideStatus, FleetStatus, QuorumDecision, QuorumSettings, ReplicaStatus,
};
use crate::wire::{Heartbeat, Keys, OverrideRecord, ReportedState};

/// How many decisions [`FleetStatus::decisions`] keeps.
const DECISIONS_KEPT: usize = 32;

/// The source the fleet's overrides carry on each replica's manager
/// (`Snapshot::override_level.source`): the fleet clears only its own.
pub const OVERRIDE_SOURCE: &str = "fleet";

/// One replica's membership in its fleet: a background tokio task that
/// keeps a [`DegradationManager`] in step with the other replicas through
/// Redis, and a handle to ask it what it knows ([`status`](Self::status))
/// or to set a fleet-wide override.
///
/// Nothing it does is on the call path: breaker calls and feature gates
/// never touch Redis, and a Redis that is down, slow or paused only makes
/// the replica fall back to its own view.
///
/// The task stops (and removes this replica's heartbeat) on
/// [`shutdown`](Self::shutdown), or when the handle is dropped.
#[derive(Debug)]
pub struct Fleet {
    inner: Arc<Inner>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct Inner {
    config: FleetConfig,
    manager: DegradationManager,
    keys: Keys,
    state: Mutex<State>,
    nudge: Notify,
    operator: FleetOperator,
}

/// The fleet override this replica applied to its manager.
#[derive(Debug, Clone)]
struct Applied {
    id: String,
    level: Level,
    deadline: Option<Instant>,
}

/// The fleet override last read from Redis.
#[derive(Debug, Clone)]
struct Seen {
    id: String,
    level: Level,
    by: String,
    deadline: Option<Instant>,
}

#[derive(Debug, Default)]
struct State {
    connected: bool,
    last_contact: Option<Instant>,
    last_error: Option<String>,
    /// When the peers below were read.
    last_read: Option<Instant>,
    peers: Vec<Heartbeat>,
    local: BTreeMap<String, ReportedState>,
    seen: Option<Seen>,
    applied: Option<Applied>,
    /// The id of the last override record acted on (set or cleared).
    last_record: Option<String>,
    /// Dependencies whose quorum holds (one trip per quorum episode).
    episodes: BTreeSet<String>,
    decisions: VecDeque<(QuorumDecision, Instant)>,
}

impl Fleet {
    /// Joins the fleet: checks the configuration, connects to Redis and
    /// starts the background task on the current tokio runtime.
    ///
    /// When Redis cannot be reached, [`OnUnreachable::Fail`] returns
    /// [`FleetError::Unreachable`]; [`OnUnreachable::Retry`] (the default)
    /// logs a warning and starts anyway: the task retries with backoff
    /// and the replica runs on its own view meanwhile.
    ///
    /// # Errors
    /// [`FleetError::Config`], [`FleetError::InvalidUrl`],
    /// [`FleetError::NoRuntime`], and [`FleetError::Unreachable`] under
    /// `on_unreachable = "fail"`.
    pub async fn start(
        manager: &DegradationManager,
        config: FleetConfig,
    ) -> Result<Fleet, FleetError> {
        config.validate()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| FleetError::NoRuntime)?;
        let mut link = Link::open(&config.url, config.command_timeout)?;
        let operator = FleetOperator::from_config(&config)?
            .with_name(config.replica_id.clone())
            .with_timeout(config.command_timeout.max(Duration::from_secs(1)));
        let first_error = match link.cmd::<String>(&redis::cmd("PING")).await {
            Ok(_) => None,
            Err(error) => match config.on_unreachable {
                OnUnreachable::Fail => return Err(error),
                OnUnreachable::Retry => {
                    tracing::warn!(
                        target: "brownout_redis",
                        replica = %config.replica_id,
                        %error,
                        "Redis unreachable at startup; running on the local view and retrying in the background"
                    );
                    Some(error.to_string())
                }
            },
        };
        let inner = Arc::new(Inner {
            keys: Keys::new(&config.prefix),
            manager: manager.clone(),
            state: Mutex::new(State {
                connected: first_error.is_none(),
                last_contact: first_error.is_none().then(Instant::now),
                last_error: first_error,
                ..State::default()
            }),
            nudge: Notify::new(),
            operator,
            config,
        });
        let (stop, stopped) = watch::channel(false);
        let task = runtime.spawn(run(Arc::clone(&inner), link, stopped));
        Ok(Fleet {
            inner,
            stop,
            task: Some(task),
        })
    }

    /// This replica's id.
    #[must_use]
    pub fn replica_id(&self) -> &str {
        &self.inner.config.replica_id
    }

    /// The configuration it runs with.
    #[must_use]
    pub fn config(&self) -> &FleetConfig {
        &self.inner.config
    }

    /// The manager it keeps in step.
    #[must_use]
    pub fn manager(&self) -> &DegradationManager {
        &self.inner.manager
    }

    /// Forces `level` on every replica of the fleet (this one included)
    /// for `ttl`. See [`FleetOperator::force_level`].
    ///
    /// # Errors
    /// As [`FleetOperator::force_level`].
    pub async fn force_level(
        &self,
        level: Level,
        ttl: Duration,
    ) -> Result<FleetOverride, FleetError> {
        let set = self.inner.operator.force_level(level, ttl).await?;
        self.inner.nudge.notify_one();
        Ok(set)
    }

    /// Clears the fleet override on every replica. See
    /// [`FleetOperator::clear_override`].
    ///
    /// # Errors
    /// As [`FleetOperator::clear_override`].
    pub async fn clear_override(&self) -> Result<Option<FleetOverride>, FleetError> {
        let cleared = self.inner.operator.clear_override().await?;
        self.inner.nudge.notify_one();
        Ok(cleared)
    }

    /// Asks the task to read the fleet's state now rather than at its next
    /// poll. Returns at once.
    pub fn sync_now(&self) {
        self.inner.nudge.notify_one();
    }

    /// What this replica knows about its fleet now.
    #[must_use]
    pub fn status(&self) -> FleetStatus {
        let inner = &self.inner;
        let now = Instant::now();
        let ttl = inner.config.heartbeat_ttl();
        let (mut status, seen, applied) = {
            let state = inner.state.lock();
            let fresh = state
                .last_read
                .is_some_and(|at| now.saturating_duration_since(at) <= ttl);
            let mut live: Vec<ReplicaStatus> = if fresh {
                state
                    .peers
                    .iter()
                    .filter(|hb| hb.id != inner.config.replica_id)
                    .map(|hb| ReplicaStatus {
                        id: hb.id.clone(),
                        is_self: false,
                        level: hb.level,
                        breakers: hb.breakers.clone(),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            live.push(ReplicaStatus {
                id: inner.config.replica_id.clone(),
                is_self: true,
                level: None,
                breakers: if inner.config.shared_breakers {
                    state.local.clone()
                } else {
                    BTreeMap::new()
                },
            });
            live.sort_by(|a, b| a.id.cmp(&b.id));
            let status = FleetStatus {
                replica_id: inner.config.replica_id.clone(),
                prefix: inner.config.prefix.clone(),
                connected: state.connected,
                last_contact_ago: state
                    .last_contact
                    .map(|at| now.saturating_duration_since(at)),
                last_error: if state.connected {
                    None
                } else {
                    state.last_error.clone()
                },
                shared_breakers: inner.config.shared_breakers,
                quorum: QuorumSettings {
                    share: inner.config.quorum,
                    min_replicas: inner.config.min_replicas,
                },
                live_replicas: live,
                fleet_override: None,
                decisions: state
                    .decisions
                    .iter()
                    .map(|(d, at)| QuorumDecision {
                        ago: now.saturating_duration_since(*at),
                        ..d.clone()
                    })
                    .collect(),
            };
            (status, state.seen.clone(), state.applied.clone())
        };
        // The manager is asked with our lock released.
        if let Some(me) = status.live_replicas.iter_mut().find(|r| r.is_self) {
            me.level = Some(inner.manager.level());
        }
        status.fleet_override = seen
            .filter(|seen| seen.deadline.is_none_or(|d| d > now))
            .map(|seen| FleetOverrideStatus {
                in_force: applied
                    .as_ref()
                    .is_some_and(|a| a.id == seen.id && ours_in_force(&inner.manager, a)),
                id: seen.id,
                level: seen.level,
                set_by: seen.by,
                expires_in: seen.deadline.map(|d| d.saturating_duration_since(now)),
            });
        status
    }

    /// Leaves the fleet: stops the task and removes this replica's
    /// heartbeat (within the command timeout), so the others stop counting
    /// it at once rather than when its heartbeat expires. A fleet override
    /// already applied stays in force until its TTL.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        // The task says goodbye on its own if the runtime is still running.
        let _ = self.stop.send(true);
    }
}

/// Whether the override in force on `manager` is the fleet's `applied`.
fn ours_in_force(manager: &DegradationManager, applied: &Applied) -> bool {
    manager.override_source() == Some(OVERRIDE_SOURCE)
        && manager.override_level() == Some(applied.level)
}

/// Exponential backoff with jitter: 100 ms doubling to 2 s, each delay
/// shortened by up to half.
#[derive(Debug)]
struct Backoff {
    attempt: u32,
}

impl Backoff {
    fn next(&mut self) -> Duration {
        let base = Duration::from_millis(100).saturating_mul(1 << self.attempt.min(5));
        self.attempt = self.attempt.saturating_add(1);
        let base = base.min(Duration::from_secs(2));
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(self.attempt);
        #[allow(clippy::cast_precision_loss)] // a jitter fraction
        let jitter = (hasher.finish() % 1000) as f64 / 2000.0;
        base.mul_f64(1.0 - jitter)
    }

    fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// The task's connection-bound state.
struct Session {
    link: Link,
    subscription: Option<PubSubStream>,
    backoff: Backoff,
    retry_at: Option<Instant>,
}

async fn next_message(subscription: &mut Option<PubSubStream>) -> Option<redis::Msg> {
    match subscription {
        Some(stream) => stream.next().await,
        None => std::future::pending().await,
    }
}

async fn run(inner: Arc<Inner>, link: Link, mut stop: watch::Receiver<bool>) {
    let config = &inner.config;
    let mut session = Session {
        link,
        subscription: None,
        backoff: Backoff { attempt: 0 },
        retry_at: None,
    };
    let ticker = |period: Duration| {
        let mut t = tokio::time::interval(period);
        t.set_missed_tick_behavior(MissedTickBehavior::Delay);
        t
    };
    let mut breaker_tick = ticker(config.breaker_poll_interval);
    let mut poll_tick = ticker(config.poll_interval);
    let mut heartbeat_tick = ticker(config.heartbeat_interval);
    let mut publish = true;
    let mut announce = false;
    let mut read = true;
    inner.sample_local();
    loop {
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            _ = breaker_tick.tick() => {
                if inner.sample_local() {
                    publish = true;
                    announce = true;
                }
                inner.forget_stale();
            }
            _ = heartbeat_tick.tick() => publish = true,
            _ = poll_tick.tick() => read = true,
            () = inner.nudge.notified() => read = true,
            message = next_message(&mut session.subscription) => {
                if message.is_some() {
                    read = true;
                } else {
                    // The subscription's connection ended: resubscribe.
                    session.subscription = None;
                }
            }
        }
        if *stop.borrow() {
            break;
        }
        if !session.link.is_open() && session.retry_at.is_some_and(|at| Instant::now() < at) {
            continue;
        }
        if !(publish || read) && session.link.is_open() && session.subscription.is_some() {
            // Nothing to say or to read: "last contact" stays the last real exchange.
            continue;
        }
        let outcome = inner.exchange(&mut session, publish, announce, read).await;
        match outcome {
            Ok(()) => {
                publish = false;
                announce = false;
                read = false;
            }
            Err(error) => {
                session.link.reset();
                session.subscription = None;
                let delay = session.backoff.next();
                session.retry_at = Some(Instant::now() + delay);
                inner.mark_failed(&error, delay);
                // Everything is redone once the link is back.
                publish = true;
                read = true;
            }
        }
    }
    inner.goodbye(&mut session.link).await;
}

impl Inner {
    /// One round with Redis: (re)subscribe, publish the heartbeat, read the
    /// fleet and act on it.
    async fn exchange(
        &self,
        session: &mut Session,
        publish: bool,
        announce: bool,
        read: bool,
    ) -> Result<(), FleetError> {
        let reconnecting = !session.link.is_open();
        if session.subscription.is_none() {
            // Subscribe first, so nothing published after our read is missed.
            session.subscription = Some(session.link.subscribe(&self.keys.channel).await?);
        }
        let mut publish = publish || reconnecting;
        let mut announce = announce;
        if read || reconnecting {
            let fleet = read_fleet(&mut session.link, &self.keys).await?;
            if self.absorb(fleet) {
                // A trip changed the local view: tell the others now.
                publish = true;
                announce = true;
            }
        }
        if publish {
            self.publish_heartbeat(&mut session.link, announce).await?;
        }
        if session.backoff.attempt > 0 || reconnecting {
            let was = self.state.lock().connected;
            if !was {
                tracing::info!(target: "brownout_redis", replica = %self.config.replica_id, url = %session.link.url, "connected to Redis");
            }
        }
        session.backoff.reset();
        session.retry_at = None;
        let mut state = self.state.lock();
        state.connected = true;
        state.last_contact = Some(Instant::now());
        state.last_error = None;
        Ok(())
    }

    fn mark_failed(&self, error: &FleetError, retry_in: Duration) {
        let mut state = self.state.lock();
        if state.connected {
            tracing::warn!(
                target: "brownout_redis",
                replica = %self.config.replica_id,
                %error,
                "lost Redis; running on the local view, reconnecting with backoff"
            );
        } else {
            tracing::debug!(target: "brownout_redis", %error, retry_in_ms = retry_in.as_millis() as u64, "Redis still unreachable");
        }
        state.connected = false;
        state.last_error = Some(error.to_string());
    }

    /// Samples every local breaker (one atomic load each; a snapshot only
    /// for an open one, to tell a peer trip from its own). Returns whether
    /// the view changed.
    fn sample_local(&self) -> bool {
        if !self.config.shared_breakers {
            return false;
        }
        let view: BTreeMap<String, ReportedState> = self
            .manager
            .breakers()
            .iter()
            .map(|breaker| {
                let state = breaker.state();
                let by_peers = state == BreakerState::Open
                    && breaker
                        .snapshot()
                        .last_trip
                        .is_some_and(|trip| trip.cause == TripCause::Peers);
                (
                    breaker.name().to_owned(),
                    ReportedState::of(state, by_peers),
                )
            })
            .collect();
        let mut state = self.state.lock();
        if state.local == view {
            false
        } else {
            state.local = view;
            true
        }
    }

    /// Once the last read is older than the heartbeat TTL, the peers'
    /// reports no longer count: quorum episodes end.
    fn forget_stale(&self) {
        let ttl = self.config.heartbeat_ttl();
        let mut state = self.state.lock();
        let stale = state.last_read.is_none_or(|at| at.elapsed() > ttl);
        if stale && !state.episodes.is_empty() {
            state.episodes.clear();
        }
        if stale {
            state.peers.clear();
        }
    }

    async fn publish_heartbeat(&self, link: &mut Link, announce: bool) -> Result<(), FleetError> {
        let breakers = if self.config.shared_breakers {
            self.state.lock().local.clone()
        } else {
            BTreeMap::new()
        };
        let beat = Heartbeat {
            v: 1,
            id: self.config.replica_id.clone(),
            level: Some(self.manager.level()),
            breakers,
            shared_breakers: self.config.shared_breakers,
        };
        let ttl = u64::try_from(self.config.heartbeat_ttl().as_millis()).unwrap_or(u64::MAX);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("SET")
            .arg(self.keys.replica(&self.config.replica_id))
            .arg(beat.encode())
            .arg("PX")
            .arg(ttl)
            .ignore()
            .cmd("SADD")
            .arg(&self.keys.replicas)
            .arg(&self.config.replica_id)
            .ignore();
        if announce {
            pipe.cmd("PUBLISH")
                .arg(&self.keys.channel)
                .arg("view")
                .ignore();
        }
        link.pipe::<()>(&pipe).await
    }

    /// Acts on a fresh read: the override, then the quorum. Returns
    /// whether the local view changed (a breaker tripped by the quorum).
    fn absorb(&self, fleet: FleetRead) -> bool {
        let now = Instant::now();
        self.apply_override(fleet.record, fleet.pttl, now);
        // This replica votes with its view of now, never a stale sample:
        // a breaker reset by hand a moment ago must not count as open.
        let sampled = self.sample_local();
        let mut state = self.state.lock();
        state.last_read = Some(now);
        state.peers = fleet
            .heartbeats
            .into_iter()
            .filter(|hb| hb.id != self.config.replica_id)
            .collect();
        if self.config.shared_breakers {
            let decisions = self.judge(&mut state);
            drop(state);
            for (dependency, verdict_open, reporting, share) in decisions {
                let action = match self.manager.breaker(&dependency) {
                    Ok(breaker) => {
                        if breaker.trip_by_peers() {
                            tracing::warn!(
                                target: "brownout_redis",
                                replica = %self.config.replica_id,
                                dependency = %dependency,
                                open = ?verdict_open,
                                live = reporting,
                                "breaker opened on the fleet quorum's word"
                            );
                            Some(DecisionAction::Tripped)
                        } else {
                            Some(DecisionAction::NotClosed {
                                state: breaker.state(),
                            })
                        }
                    }
                    Err(_) => None,
                };
                if let Some(action) = action {
                    self.record(QuorumDecision {
                        dependency,
                        replicas_open: verdict_open,
                        replicas_live: reporting,
                        share,
                        action,
                        ago: Duration::ZERO,
                    });
                }
            }
            // A trip changes the local view: sample it now for the next heartbeat.
            self.sample_local() || sampled
        } else {
            false
        }
    }

    /// Evaluates the quorum; returns the dependencies whose quorum has just
    /// formed (to trip), and records those whose quorum ended.
    fn judge(&self, state: &mut State) -> Vec<(String, Vec<String>, usize, f64)> {
        let mut votes = vec![Vote {
            replica: &self.config.replica_id,
            breakers: &state.local,
        }];
        votes.extend(state.peers.iter().map(|hb| Vote {
            replica: &hb.id,
            breakers: &hb.breakers,
        }));
        let verdicts = decide(
            state.local.keys().map(String::as_str),
            &votes,
            self.config.quorum,
            self.config.min_replicas,
        );
        let mut trips = Vec::new();
        let mut released = Vec::new();
        for verdict in verdicts {
            let active = state.episodes.contains(&verdict.dependency);
            if verdict.reached && !active {
                state.episodes.insert(verdict.dependency.clone());
                trips.push((
                    verdict.dependency,
                    verdict.open,
                    verdict.reporting,
                    verdict.share,
                ));
            } else if !verdict.reached && active {
                state.episodes.remove(&verdict.dependency);
                released.push(QuorumDecision {
                    dependency: verdict.dependency,
                    replicas_open: verdict.open,
                    replicas_live: verdict.reporting,
                    share: verdict.share,
                    action: DecisionAction::Released,
                    ago: Duration::ZERO,
                });
            }
        }
        let now = Instant::now();
        for decision in released {
            push_decision(&mut state.decisions, decision, now);
        }
        trips
    }

    fn record(&self, decision: QuorumDecision) {
        push_decision(&mut self.state.lock().decisions, decision, Instant::now());
    }

    /// Applies what the override key holds. The key is the truth; the
    /// notification only says "read it".
    fn apply_override(&self, record: Option<OverrideRecord>, pttl: Option<Duration>, now: Instant) {
        let mut state = self.state.lock();
        match record {
            Some(OverrideRecord::Set { id, level, by }) => {
                let deadline = pttl.and_then(|left| now.checked_add(left));
                state.seen = Some(Seen {
                    id: id.clone(),
                    level,
                    by: by.clone(),
                    deadline,
                });
                if state.last_record.as_deref() == Some(id.as_str()) {
                    return;
                }
                state.last_record = Some(id.clone());
                state.applied = Some(Applied {
                    id: id.clone(),
                    level,
                    deadline,
                });
                drop(state);
                self.manager.force_level_from(level, pttl, OVERRIDE_SOURCE);
                tracing::info!(
                    target: "brownout_redis",
                    replica = %self.config.replica_id,
                    %level,
                    ttl_ms = pttl.map(|d| d.as_millis() as u64),
                    %id,
                    %by,
                    "fleet override applied"
                );
            }
            Some(OverrideRecord::Cleared { id, by }) => {
                state.seen = None;
                if state.last_record.as_deref() == Some(id.as_str()) && state.applied.is_none() {
                    return;
                }
                state.last_record = Some(id.clone());
                let applied = state.applied.take();
                drop(state);
                // The fleet has no override: drop the fleet's, never a local one.
                if applied.is_some() && self.manager.clear_override_from(OVERRIDE_SOURCE) {
                    tracing::info!(
                        target: "brownout_redis",
                        replica = %self.config.replica_id,
                        %id,
                        %by,
                        "fleet override cleared"
                    );
                }
            }
            None => {
                // No key: the override expired (each replica's copy expires
                // on its own clock) or Redis lost its data. Nothing to do.
                state.seen = None;
                if state
                    .applied
                    .as_ref()
                    .is_some_and(|a| a.deadline.is_some_and(|d| d <= now))
                {
                    state.applied = None;
                }
            }
        }
    }

    /// Removes this replica's heartbeat, best effort, within the deadline.
    async fn goodbye(&self, link: &mut Link) {
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("DEL")
            .arg(self.keys.replica(&self.config.replica_id))
            .ignore()
            .cmd("SREM")
            .arg(&self.keys.replicas)
            .arg(&self.config.replica_id)
            .ignore()
            .cmd("PUBLISH")
            .arg(&self.keys.channel)
            .arg("view")
            .ignore();
        if let Err(error) = link.pipe::<()>(&pipe).await {
            tracing::debug!(target: "brownout_redis", %error, "goodbye not delivered; the heartbeat will expire");
        }
    }
}

fn push_decision(
    decisions: &mut VecDeque<(QuorumDecision, Instant)>,
    decision: QuorumDecision,
    at: Instant,
) {
    decisions.push_front((decision, at));
    decisions.truncate(DECISIONS_KEPT);
}
