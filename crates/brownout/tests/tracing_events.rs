//! The `tracing` events: breaker transitions and level
//! changes on target `brownout`, WARN going down and INFO going up, with
//! their fields; nothing above TRACE per call.
//!
//! A small `Layer` collects every event (level, target, fields as text) on
//! the test's thread (`tracing::subscriber::with_default`).

#![cfg(feature = "tracing")]

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use brownout::clock::ManualClock;
use brownout::{Breaker, BreakerConfig, BreakerState, Config, DegradationManager, Level};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

const REFERENCE: &str = include_str!("../../../examples/brownout.toml");

/// One collected event.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    level: tracing::Level,
    target: String,
    fields: BTreeMap<String, String>,
}

impl Seen {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<Seen>>>);

impl Collect {
    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: Subscriber> Layer<S> for Collect {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Seen {
                level: *event.metadata().level(),
                target: event.metadata().target().to_owned(),
                fields,
            });
    }
}

/// Runs `f` with the collecting subscriber as this thread's default.
fn traced<T>(collect: &Collect, f: impl FnOnce() -> T) -> T {
    let subscriber = tracing_subscriber::registry().with(collect.clone());
    tracing::subscriber::with_default(subscriber, f)
}

fn reference(clock: &ManualClock) -> DegradationManager {
    DegradationManager::builder()
        .config(Config::from_toml_str(REFERENCE).expect("reference config"))
        .clock(clock.clone())
        .build()
        .expect("reference manager")
}

/// A breaker transition as announced by a manager.
#[track_caller]
fn assert_transition(
    seen: &Seen,
    level: tracing::Level,
    (dependency, from, to): (&str, &str, &str),
    (score, after): (f64, Level),
) {
    assert_eq!(seen.target, "brownout", "{seen:?}");
    assert_eq!(seen.level, level, "{seen:?}");
    assert_eq!(seen.field("message"), Some("circuit breaker transition"));
    assert_eq!(seen.field("dependency"), Some(dependency), "{seen:?}");
    assert_eq!(seen.field("from"), Some(from), "{seen:?}");
    assert_eq!(seen.field("to"), Some(to), "{seen:?}");
    assert_eq!(
        seen.field("score"),
        Some(score.to_string().as_str()),
        "{seen:?}"
    );
    assert_eq!(seen.field("level"), Some(after.as_str()), "{seen:?}");
}

/// A level change.
#[track_caller]
fn assert_level_change(
    seen: &Seen,
    level: tracing::Level,
    (from, to): (Level, Level),
    score: f64,
    cause: &str,
) {
    assert_eq!(seen.target, "brownout", "{seen:?}");
    assert_eq!(seen.level, level, "{seen:?}");
    assert_eq!(seen.field("message"), Some("degradation level changed"));
    assert_eq!(seen.field("from"), Some(from.as_str()), "{seen:?}");
    assert_eq!(seen.field("to"), Some(to.as_str()), "{seen:?}");
    assert_eq!(seen.field("level"), Some(to.as_str()), "{seen:?}");
    assert_eq!(
        seen.field("score"),
        Some(score.to_string().as_str()),
        "{seen:?}"
    );
    assert_eq!(seen.field("cause"), Some(cause), "{seen:?}");
}

/// The reference outage: openai (weight 50) fails five times, one call is
/// rejected, two trials succeed 30 s later.
#[test]
fn outage_transitions_and_level_changes() {
    let collect = Collect::default();
    let clock = ManualClock::new();
    traced(&collect, || {
        let manager = reference(&clock);
        assert!(
            collect.take().is_empty(),
            "building at OPTIMAL announces nothing"
        );
        let openai = manager.breaker("openai").expect("openai");

        for _ in 0..5 {
            let _ = openai.call_sync(|| Err::<(), _>("503"));
        }
        let seen = collect.take();
        assert_eq!(seen.len(), 2, "{seen:#?}");
        assert_transition(
            &seen[0],
            tracing::Level::WARN,
            ("openai", "closed", "open"),
            (50.0, Level::Minimal),
        );
        assert_level_change(
            &seen[1],
            tracing::Level::WARN,
            (Level::Optimal, Level::Minimal),
            50.0,
            "breaker openai closed -> open",
        );

        assert!(openai.call_sync(|| Ok::<_, ()>(())).is_err());
        assert!(collect.take().is_empty(), "a rejection announces nothing");

        clock.advance(Duration::from_secs(30));
        assert!(openai.call_sync(|| Ok::<_, ()>(())).is_ok());
        let seen = collect.take();
        // A trial earns no credit: the level holds until the breaker closes.
        assert_eq!(seen.len(), 1, "{seen:#?}");
        assert_transition(
            &seen[0],
            tracing::Level::INFO,
            ("openai", "open", "half_open"),
            (50.0, Level::Minimal),
        );

        assert!(openai.call_sync(|| Ok::<_, ()>(())).is_ok());
        assert_eq!(openai.state(), BreakerState::Closed);
        let seen = collect.take();
        assert_eq!(seen.len(), 2, "{seen:#?}");
        assert_transition(
            &seen[0],
            tracing::Level::INFO,
            ("openai", "half_open", "closed"),
            (100.0, Level::Optimal),
        );
        assert_level_change(
            &seen[1],
            tracing::Level::INFO,
            (Level::Minimal, Level::Optimal),
            100.0,
            "breaker openai half_open -> closed",
        );
    });
}

/// A transition that leaves the level alone is announced alone; a re-open
/// from half-open is a step down (WARN).
#[test]
fn transition_without_level_change_and_reopen() {
    let collect = Collect::default();
    let clock = ManualClock::new();
    traced(&collect, || {
        let manager = reference(&clock);
        let s3 = manager.breaker("s3").expect("s3"); // weight 5: 95 is still OPTIMAL
        for _ in 0..4 {
            let _ = s3.call_sync(|| Err::<(), _>("slow down"));
        }
        let seen = collect.take();
        assert_eq!(seen.len(), 1, "{seen:#?}");
        assert_transition(
            &seen[0],
            tracing::Level::WARN,
            ("s3", "closed", "open"),
            (95.0, Level::Optimal),
        );

        clock.advance(Duration::from_secs(25));
        let _ = s3.call_sync(|| Err::<(), _>("still down"));
        let seen = collect.take();
        assert_eq!(seen.len(), 2, "{seen:#?}");
        assert_transition(
            &seen[0],
            tracing::Level::INFO,
            ("s3", "open", "half_open"),
            (95.0, Level::Optimal),
        );
        assert_transition(
            &seen[1],
            tracing::Level::WARN,
            ("s3", "half_open", "open"),
            (95.0, Level::Optimal),
        );
    });
}

/// Overrides: WARN forcing the level down, INFO clearing it.
#[test]
fn override_level_changes() {
    let collect = Collect::default();
    let clock = ManualClock::new();
    traced(&collect, || {
        let manager = reference(&clock);
        manager.force_level(Level::Limited, None);
        let seen = collect.take();
        assert_eq!(seen.len(), 1, "{seen:#?}");
        assert_level_change(
            &seen[0],
            tracing::Level::WARN,
            (Level::Optimal, Level::Limited),
            100.0,
            "override",
        );
        manager.clear_override();
        let seen = collect.take();
        assert_eq!(seen.len(), 1, "{seen:#?}");
        assert_level_change(
            &seen[0],
            tracing::Level::INFO,
            (Level::Limited, Level::Optimal),
            100.0,
            "override",
        );
    });
}

/// A standalone breaker announces its transitions without score or level.
#[test]
fn standalone_breaker_transition() {
    let collect = Collect::default();
    let clock = ManualClock::new();
    traced(&collect, || {
        let config = BreakerConfig {
            failure_threshold: 2,
            ..BreakerConfig::default()
        };
        let breaker = Breaker::with_clock("payments", config, clock.clone()).expect("breaker");
        for _ in 0..2 {
            let _ = breaker.call_sync(|| Err::<(), _>("declined"));
        }
        let seen = collect.take();
        assert_eq!(seen.len(), 1, "{seen:#?}");
        let event = &seen[0];
        assert_eq!(
            (event.level, event.target.as_str()),
            (tracing::Level::WARN, "brownout")
        );
        assert_eq!(event.field("dependency"), Some("payments"));
        assert_eq!(event.field("from"), Some("closed"));
        assert_eq!(event.field("to"), Some("open"));
        assert_eq!(event.field("score"), None);
        assert_eq!(event.field("level"), None);
    });
}

/// Calls that change no state emit nothing above TRACE: closed successes,
/// failures below the threshold, ignored outcomes, open rejections, and the
/// feature gates.
#[test]
fn nothing_above_trace_per_call() {
    let collect = Collect::default();
    let clock = ManualClock::new();
    traced(&collect, || {
        let manager = reference(&clock);
        let openai = manager.breaker("openai").expect("openai");
        let database = manager.breaker("database").expect("database");
        let gate = manager.gate("ai_suggestions").expect("gate");
        for i in 0..1_000u32 {
            let _ = openai.call_sync(|| if i % 3 == 0 { Err(()) } else { Ok(()) });
            assert!(gate.is_enabled());
            assert!(manager.is_enabled("checkout"));
        }
        let _ = openai.call_sync_with(|_: &Result<(), ()>| brownout::Outcome::Ignore, || Ok(()));
        assert_eq!(openai.state(), BreakerState::Closed);
        let per_call = collect.take();
        assert!(
            per_call.iter().all(|e| e.level == tracing::Level::TRACE),
            "{per_call:#?}"
        );

        for _ in 0..3 {
            let _ = database.call_sync(|| Err::<(), _>("down"));
        }
        assert_eq!(database.state(), BreakerState::Open);
        let trip = collect.take();
        assert_eq!(trip.len(), 2, "the trip and the level change: {trip:#?}");
        for _ in 0..1_000 {
            assert!(database.call_sync(|| Ok::<_, ()>(())).is_err());
        }
        let per_call = collect.take();
        assert!(
            per_call.iter().all(|e| e.level == tracing::Level::TRACE),
            "{per_call:#?}"
        );
    });
}
