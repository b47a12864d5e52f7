//! A reference model of the breaker — a plain, single-threaded state machine
//! written straight from the documented semantics (`docs/semantics.md`) — checked against the real `Breaker` over
//! random sequences of acquisitions, outcomes, clock moves and manual
//! controls. After every step the state, the admit/reject decision (with the
//! rejection's state and `retry_after`) and the snapshot counters must agree.

use std::collections::VecDeque;
use std::time::Duration;

use brownout::clock::ManualClock;
use brownout::{Breaker, BreakerConfig, BreakerState, OwnedPermit, Policy};
use proptest::prelude::*;

const RECOVERY_MS: u64 = 10_000;
const MS: u64 = 1_000_000;

// ---------------------------------------------------------------- the model

#[derive(Debug, Clone)]
struct ModelConfig {
    policy: Policy,
    failure_threshold: u32,
    window: usize,
    minimum_calls: usize,
    failure_rate_threshold: f64,
    half_open_max_calls: u32,
    backoff_multiplier: u64,
    max_recovery_ms: Option<u64>,
    half_open_timeout_ms: Option<u64>,
}

impl ModelConfig {
    fn breaker_config(&self) -> BreakerConfig {
        BreakerConfig {
            policy: self.policy,
            failure_threshold: self.failure_threshold,
            window: u32::try_from(self.window).unwrap(),
            minimum_calls: u32::try_from(self.minimum_calls).unwrap(),
            failure_rate_threshold: self.failure_rate_threshold,
            recovery_timeout: Duration::from_millis(RECOVERY_MS),
            backoff_multiplier: self.backoff_multiplier as f64,
            max_recovery_timeout: self.max_recovery_ms.map(Duration::from_millis),
            half_open_max_calls: self.half_open_max_calls,
            half_open_timeout: self.half_open_timeout_ms.map(Duration::from_millis),
            ..BreakerConfig::default()
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Ticket {
    generation: u64,
    state: BreakerState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Success,
    Failure,
    Ignore,
    Drop,
}

#[derive(Debug)]
struct Model {
    config: ModelConfig,
    now: u64,
    state: BreakerState,
    generation: u64,
    consecutive: u32,
    window: VecDeque<bool>,
    open_until: u64,
    reopens: u32,
    in_flight: u32,
    successes: u32,
    deadline: u64,
}

impl Model {
    fn new(config: ModelConfig) -> Self {
        Model {
            config,
            now: 0,
            state: BreakerState::Closed,
            generation: 0,
            consecutive: 0,
            window: VecDeque::new(),
            open_until: 0,
            reopens: 0,
            in_flight: 0,
            successes: 0,
            deadline: 0,
        }
    }

    fn open_ms(&self) -> u64 {
        let mut ms = RECOVERY_MS;
        for _ in 0..self.reopens {
            ms = ms.saturating_mul(self.config.backoff_multiplier);
            if let Some(cap) = self.config.max_recovery_ms {
                ms = ms.min(cap);
            }
        }
        if let Some(cap) = self.config.max_recovery_ms {
            ms = ms.min(cap);
        }
        ms
    }

    /// Every state change: a new generation, counters and trials cleared.
    fn go(&mut self, to: BreakerState) {
        self.generation += 1;
        self.state = to;
        self.consecutive = 0;
        self.window.clear();
        self.in_flight = 0;
        self.successes = 0;
        match to {
            BreakerState::Open => self.open_until = self.now + self.open_ms() * MS,
            BreakerState::HalfOpen => {
                let timeout = self.config.half_open_timeout_ms.unwrap_or(RECOVERY_MS);
                self.deadline = self.now + timeout * MS;
            }
            BreakerState::Closed => self.reopens = 0,
            BreakerState::ForcedOpen | BreakerState::Disabled => {}
        }
    }

    fn reopen(&mut self) {
        self.reopens += 1;
        self.go(BreakerState::Open);
    }

    fn ticket(&self) -> Ticket {
        Ticket {
            generation: self.generation,
            state: self.state,
        }
    }

    /// Ok(ticket) or Err((state, retry_after in ns)).
    fn acquire(&mut self) -> Result<Ticket, (BreakerState, u64)> {
        match self.state {
            BreakerState::Closed | BreakerState::Disabled => Ok(self.ticket()),
            BreakerState::ForcedOpen => Err((BreakerState::ForcedOpen, RECOVERY_MS * MS)),
            BreakerState::Open if self.now < self.open_until => {
                Err((BreakerState::Open, self.open_until - self.now))
            }
            BreakerState::Open => {
                self.go(BreakerState::HalfOpen);
                self.in_flight = 1;
                Ok(self.ticket())
            }
            BreakerState::HalfOpen if self.now >= self.deadline => {
                self.reopen();
                Err((BreakerState::Open, self.open_until - self.now))
            }
            BreakerState::HalfOpen => {
                if self.in_flight + self.successes < self.config.half_open_max_calls {
                    self.in_flight += 1;
                    Ok(self.ticket())
                } else {
                    // Every slot taken: retry once the trials answer or expire.
                    Err((BreakerState::HalfOpen, self.deadline - self.now))
                }
            }
        }
    }

    /// A snapshot re-opens a half-open breaker whose trials are overdue.
    fn expire(&mut self) {
        if self.state == BreakerState::HalfOpen && self.now >= self.deadline {
            self.reopen();
        }
    }

    fn record(&mut self, ticket: Ticket, outcome: Outcome) {
        let failed = match outcome {
            Outcome::Ignore | Outcome::Drop => {
                if ticket.state == BreakerState::HalfOpen && ticket.generation == self.generation {
                    self.in_flight -= 1;
                }
                return;
            }
            Outcome::Success => false,
            Outcome::Failure => true,
        };
        if ticket.generation != self.generation {
            return; // an earlier generation never moves the state machine
        }
        match ticket.state {
            BreakerState::Closed => match self.config.policy {
                Policy::FailureRate => {
                    self.window.push_back(failed);
                    if self.window.len() > self.config.window {
                        self.window.pop_front();
                    }
                    let calls = self.window.len();
                    let failures = self.window.iter().filter(|&&f| f).count();
                    let minimum = self.config.minimum_calls.min(self.config.window);
                    if calls >= minimum
                        && failures as f64 / calls as f64 >= self.config.failure_rate_threshold
                    {
                        self.go(BreakerState::Open);
                    }
                }
                _ => {
                    if failed {
                        self.consecutive += 1;
                        if self.consecutive >= self.config.failure_threshold {
                            self.go(BreakerState::Open);
                        }
                    } else {
                        self.consecutive = 0;
                    }
                }
            },
            BreakerState::HalfOpen => {
                self.in_flight -= 1;
                if failed || self.now >= self.deadline {
                    self.reopen();
                } else {
                    self.successes += 1;
                    if self.successes >= self.config.half_open_max_calls {
                        self.go(BreakerState::Closed);
                    }
                }
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------- operations

#[derive(Debug, Clone)]
enum Op {
    Acquire,
    Resolve(usize, Outcome),
    Advance(u64),
    ForceOpen,
    Disable,
    Reset,
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        3 => Just(Outcome::Success),
        3 => Just(Outcome::Failure),
        1 => Just(Outcome::Ignore),
        1 => Just(Outcome::Drop),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let advance = prop::sample::select(vec![
        0, 1, 999, 1_000, 4_999, 5_000, 9_999, 10_000, 15_000, 20_000, 40_000,
    ]);
    prop_oneof![
        6 => Just(Op::Acquire),
        6 => (any::<usize>(), outcome()).prop_map(|(i, o)| Op::Resolve(i, o)),
        3 => advance.prop_map(Op::Advance),
        1 => prop_oneof![Just(Op::ForceOpen), Just(Op::Disable), Just(Op::Reset)],
    ]
}

fn consecutive_config() -> impl Strategy<Value = ModelConfig> {
    (
        1..=4u32,
        1..=3u32,
        prop::sample::select(vec![1u64, 2, 3]),
        prop::option::of(prop::sample::select(vec![10_000u64, 25_000, 40_000])),
        prop::option::of(prop::sample::select(vec![1_000u64, 5_000, 12_000])),
    )
        .prop_map(|(threshold, max, multiplier, cap, hot)| ModelConfig {
            policy: Policy::ConsecutiveFailures,
            failure_threshold: threshold,
            window: 100,
            minimum_calls: 10,
            failure_rate_threshold: 0.5,
            half_open_max_calls: max,
            backoff_multiplier: multiplier,
            max_recovery_ms: cap,
            half_open_timeout_ms: hot,
        })
}

fn rate_config() -> impl Strategy<Value = ModelConfig> {
    (
        1..=6usize,
        1..=8usize,
        prop::sample::select(vec![0.25, 0.5, 0.75, 1.0]),
        1..=3u32,
        prop::sample::select(vec![1u64, 2]),
        prop::option::of(prop::sample::select(vec![5_000u64, 12_000])),
    )
        .prop_map(
            |(window, minimum, rate, max, multiplier, hot)| ModelConfig {
                policy: Policy::FailureRate,
                failure_threshold: 5,
                window,
                minimum_calls: minimum,
                failure_rate_threshold: rate,
                half_open_max_calls: max,
                backoff_multiplier: multiplier,
                max_recovery_ms: None,
                half_open_timeout_ms: hot,
            },
        )
}

// ---------------------------------------------------------------- the check

fn check(config: ModelConfig, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let clock = ManualClock::new();
    let breaker = Breaker::with_clock("model", config.breaker_config(), clock.clone()).unwrap();
    let mut model = Model::new(config.clone());
    let mut held: Vec<(OwnedPermit, Ticket)> = Vec::new();

    for (step, op) in ops.into_iter().enumerate() {
        match op {
            Op::Acquire => {
                let real = breaker.try_acquire_owned();
                let expected = model.acquire();
                match (real, expected) {
                    (Ok(permit), Ok(ticket)) => held.push((permit, ticket)),
                    (Err(r), Err((state, retry))) => {
                        prop_assert_eq!(r.state(), state, "step {}: rejection state", step);
                        prop_assert_eq!(
                            r.retry_after(),
                            Duration::from_nanos(retry),
                            "step {}: retry_after",
                            step
                        );
                    }
                    (real, expected) => {
                        return Err(TestCaseError::fail(format!(
                            "step {step}: real admitted={} but model admitted={}",
                            real.is_ok(),
                            expected.is_ok()
                        )));
                    }
                }
            }
            Op::Resolve(i, outcome) => {
                if held.is_empty() {
                    continue;
                }
                let (permit, ticket) = held.swap_remove(i % held.len());
                match outcome {
                    Outcome::Success => permit.success(),
                    Outcome::Failure => permit.failure(),
                    Outcome::Ignore => permit.ignore(),
                    Outcome::Drop => drop(permit),
                }
                model.record(ticket, outcome);
            }
            Op::Advance(ms) => {
                clock.advance(Duration::from_millis(ms));
                model.now += ms * MS;
            }
            Op::ForceOpen => {
                breaker.force_open();
                model.go(BreakerState::ForcedOpen);
            }
            Op::Disable => {
                breaker.disable();
                model.go(BreakerState::Disabled);
            }
            Op::Reset => {
                breaker.reset();
                model.reopens = 0;
                model.go(BreakerState::Closed);
            }
        }
        prop_assert_eq!(breaker.state(), model.state, "step {}: state", step);
        let snap = breaker.snapshot();
        model.expire();
        prop_assert_eq!(snap.state, model.state, "step {}: snapshot state", step);
        prop_assert_eq!(
            snap.consecutive_failures,
            model.consecutive,
            "step {}: consecutive failures",
            step
        );
        prop_assert_eq!(
            snap.trials_in_flight,
            model.in_flight,
            "step {}: trials in flight",
            step
        );
        if config.policy == Policy::FailureRate {
            let w = snap.window.expect("rate policy keeps a window");
            let failures = model.window.iter().filter(|&&f| f).count();
            prop_assert_eq!(w.calls as usize, model.window.len(), "step {}: calls", step);
            prop_assert_eq!(w.failures as usize, failures, "step {}: failures", step);
        }
        if model.state == BreakerState::Open {
            prop_assert_eq!(
                snap.retry_after,
                Some(Duration::from_nanos(
                    model.open_until.saturating_sub(model.now)
                )),
                "step {}: snapshot retry_after",
                step
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn consecutive_policy_matches_the_model(
        config in consecutive_config(),
        ops in prop::collection::vec(op(), 1..80),
    ) {
        check(config, ops)?;
    }

    #[test]
    fn failure_rate_policy_matches_the_model(
        config in rate_config(),
        ops in prop::collection::vec(op(), 1..80),
    ) {
        check(config, ops)?;
    }
}

/// The model itself, on a hand-written sequence (so a wrong model cannot
/// agree with a wrong breaker by accident on the basics).
#[test]
fn the_model_follows_the_spec_by_hand() {
    let mut m = Model::new(ModelConfig {
        policy: Policy::ConsecutiveFailures,
        failure_threshold: 2,
        window: 100,
        minimum_calls: 10,
        failure_rate_threshold: 0.5,
        half_open_max_calls: 2,
        backoff_multiplier: 2,
        max_recovery_ms: Some(30_000),
        half_open_timeout_ms: None,
    });
    let early = m.acquire().unwrap();
    for _ in 0..2 {
        let t = m.acquire().unwrap();
        m.record(t, Outcome::Failure);
    }
    assert_eq!(m.state, BreakerState::Open);
    m.record(early, Outcome::Success);
    assert_eq!(m.state, BreakerState::Open);
    assert_eq!(m.acquire().unwrap_err(), (BreakerState::Open, 10_000 * MS));
    m.now += 10_000 * MS;
    let a = m.acquire().unwrap();
    let b = m.acquire().unwrap();
    assert_eq!(
        m.acquire().unwrap_err(),
        (BreakerState::HalfOpen, 10_000 * MS)
    );
    m.record(a, Outcome::Success);
    m.record(b, Outcome::Failure);
    assert_eq!(m.state, BreakerState::Open);
    assert_eq!(m.acquire().unwrap_err(), (BreakerState::Open, 20_000 * MS));
    m.now += 20_000 * MS;
    let t = m.acquire().unwrap();
    m.record(t, Outcome::Failure);
    assert_eq!(m.acquire().unwrap_err(), (BreakerState::Open, 30_000 * MS));
    m.now += 30_000 * MS;
    for _ in 0..2 {
        let t = m.acquire().unwrap();
        m.record(t, Outcome::Success);
    }
    assert_eq!(m.state, BreakerState::Closed);
    assert_eq!(m.reopens, 0);
}
