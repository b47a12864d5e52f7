//! The hand-written bodies against `serde_json`'s, and the cache.

use std::time::Duration;

use brownout::clock::ManualClock;
use brownout::{
    Breaker, BreakerConfig, BreakerState, DegradationManager, DependencyName, FeatureConfig,
    FeatureGate, Level,
};
use serde_json::{Map, Value};

use super::cache::KEPT;
use super::json::{header_number, push_u64};
use super::*;

/// The answer's body as `serde_json` wrote it before the hand-written
/// writer: every answer must stay byte for byte the same.
fn reference<P: Problem>(problem: &P, members: impl FnOnce(&mut Map<String, Value>)) -> String {
    let kind = problem.kind();
    let (uri, title) = kind.uri_and_title();
    let mut body = Map::new();
    body.insert("type".into(), uri.into());
    body.insert("title".into(), title.into());
    body.insert("status".into(), kind.status().as_u16().into());
    body.insert("detail".into(), problem.to_string().into());
    members(&mut body);
    Value::Object(body).to_string()
}

fn shed_reference(shed: &Shed) -> String {
    reference(shed, |body| {
        if let Some(feature) = shed.feature() {
            body.insert("feature".into(), feature.into());
        }
        body.insert("level".into(), shed.level().as_str().into());
        body.insert(
            "required_level".into(),
            shed.required_level().as_str().into(),
        );
        if let Some(dependency) = shed.dependency() {
            body.insert("dependency".into(), dependency.into());
        }
        let held_off = serde_json::to_value(shed.held_off()).unwrap_or_default();
        body.insert("held_off".into(), held_off);
        body.insert(
            "retry_after".into(),
            retry_after_secs(shed.retry_after()).into(),
        );
    })
}

fn open_reference(open: &CircuitOpen) -> String {
    reference(open, |body| {
        body.insert("dependency".into(), open.dependency().into());
        body.insert("state".into(), open.state().as_str().into());
        body.insert(
            "retry_after".into(),
            retry_after_secs(open.retry_after()).into(),
        );
    })
}

fn late_reference(late: &CallTimedOut) -> String {
    reference(late, |body| {
        body.insert("dependency".into(), late.dependency().into());
        let millis = u64::try_from(late.timeout().as_millis()).unwrap_or(u64::MAX);
        body.insert("timeout_ms".into(), millis.into());
    })
}

/// Names that need escaping, and some that do not.
fn names() -> Vec<String> {
    let mut names: Vec<String> = [
        "openai",
        "ai_suggestions",
        "a name longer than fifteen bytes",
        "quote \" and backslash \\",
        "tab\tnewline\ncr\r",
        "bell \u{7} nul \0 esc \u{1b} del \u{7f}",
        "unicode: größe 見る 🚀",
        "",
    ]
    .map(str::to_owned)
    .to_vec();
    names.push((0_u8..0x20).map(char::from).collect());
    names
}

fn hints() -> Vec<Option<Duration>> {
    vec![
        None,
        Some(Duration::ZERO),
        Some(Duration::from_nanos(1)),
        Some(Duration::from_micros(999)),
        Some(Duration::from_millis(999)),
        Some(Duration::from_secs(1)),
        Some(Duration::from_nanos(1_000_500_000)),
        Some(Duration::from_millis(29_991)),
        Some(Duration::from_millis(299_500)),
        Some(Duration::MAX),
    ]
}

fn gates(names: &[String]) -> Vec<Option<FeatureGate>> {
    // The names the configuration accepts for a feature.
    let mut gates: Vec<_> = names
        .iter()
        .filter_map(|name| {
            let manager = DegradationManager::builder()
                .feature(name.clone(), FeatureConfig::new(Level::Optimal))
                .build()
                .ok()?;
            Some(manager.gate(name).ok())
        })
        .collect();
    assert!(!gates.is_empty(), "some feature names are accepted");
    gates.push(None);
    gates
}

fn sheds() -> Vec<Shed> {
    let names = names();
    let mut sheds = Vec::new();
    for gate in gates(&names) {
        for hint in hints() {
            let retry_after = hint;
            let hint = hint.unwrap_or(Duration::from_secs(5));
            let level = Level::Minimal;
            let required = Level::Optimal;
            let by_level = HeldOff::Level {
                level,
                required,
                retry_after,
            };
            sheds.push(Shed::new(gate.clone(), level, required, by_level, hint));
            for name in &names {
                for state in [BreakerState::Open, BreakerState::ForcedOpen] {
                    let by_dependency = HeldOff::Dependency {
                        dependency: DependencyName::new(name),
                        state,
                        retry_after,
                    };
                    sheds.push(Shed::new(
                        gate.clone(),
                        level,
                        required,
                        by_dependency,
                        hint,
                    ));
                }
            }
        }
    }
    sheds
}

/// The body written afresh, not kept.
fn fresh<P: Problem>(problem: &P) -> String {
    Entry::new(&problem.facts(), problem).body
}

fn assert_same(ours: &str, theirs: &str) {
    assert_eq!(ours, theirs);
    let _: Value = serde_json::from_str(ours).expect("valid JSON");
}

#[test]
fn shed_bodies_are_the_serde_json_bodies() {
    for shed in sheds() {
        let theirs = shed_reference(&shed);
        // Fresh, then kept.
        assert_same(&fresh(&shed), &theirs);
        assert_same(&shed.body_text(), &theirs);
        assert_same(&shed.body_text(), &theirs);
        let response: Response<String> = shed.to_response();
        assert_same(response.body(), &theirs);
        let secs = retry_after_secs(shed.retry_after()).to_string();
        assert_eq!(response.headers()[RETRY_AFTER], secs.as_str());
    }
}

#[test]
fn breaker_bodies_are_the_serde_json_bodies() {
    for name in names() {
        let clock = ManualClock::new();
        let config = BreakerConfig {
            failure_threshold: 1,
            recovery_timeout: Duration::from_secs(30),
            ..BreakerConfig::default()
        };
        let Ok(breaker) = Breaker::with_clock(&name, config, clock.clone()) else {
            continue;
        };
        let _ = breaker.call_sync(|| Err::<(), _>("down"));
        for step in [0, 1, 999_999, 1_000_000, 28_999_000_000, 1] {
            clock.advance(Duration::from_nanos(step));
            let open = CircuitOpen::from(breaker.try_acquire().unwrap_err());
            let theirs = open_reference(&open);
            assert_same(&fresh(&open), &theirs);
            assert_same(&open.body_text(), &theirs);
            let response: Response<String> = open.clone().into_response();
            assert_same(response.body(), &theirs);
            let secs = retry_after_secs(open.retry_after()).to_string();
            assert_eq!(response.headers()[RETRY_AFTER], secs.as_str());
            assert!(response.extensions().get::<CircuitOpen>().is_some());
        }
        breaker.force_open();
        let open = CircuitOpen::from(breaker.try_acquire().unwrap_err());
        assert_same(&open.body_text(), &open_reference(&open));
    }
}

#[test]
fn timeout_bodies_are_the_serde_json_bodies() {
    for name in names() {
        for timeout in [
            Duration::ZERO,
            Duration::from_nanos(1),
            Duration::from_millis(2_500),
            Duration::from_nanos(2_500_000_001),
            Duration::MAX,
        ] {
            let late = CallTimedOut::new(&name, timeout);
            let theirs = late_reference(&late);
            assert_same(&fresh(&late), &theirs);
            assert_same(&late.body_text(), &theirs);
            let response: Response<String> = late.to_response();
            assert_same(response.body(), &theirs);
            assert!(response.headers().get(RETRY_AFTER).is_none());
        }
    }
}

/// More answers in turn than a thread keeps: each one is still its own.
#[test]
fn answers_in_turn_stay_their_own() {
    let sheds = sheds();
    let some: Vec<&Shed> = sheds.iter().step_by(7).take(3 * KEPT).collect();
    for _ in 0..3 {
        for shed in &some {
            assert_same(&shed.body_text(), &shed_reference(shed));
        }
    }
}

/// What a caller makes of the text is made once per change of the
/// text, and is the text of the answer it comes with.
#[test]
fn made_bodies_follow_the_text() {
    use std::cell::Cell;
    use std::rc::Rc;

    let made = Cell::new(0);
    let respond = |shed: &Shed| {
        shed.clone().into_response_with(|text| {
            made.set(made.get() + 1);
            Rc::<str>::from(text)
        })
    };
    let gates = gates(&["ai_suggestions".to_owned()]);
    let shed = |millis: u64| {
        let held_off = HeldOff::Dependency {
            dependency: DependencyName::new("openai"),
            state: BreakerState::Open,
            retry_after: Some(Duration::from_millis(millis)),
        };
        let hint = Duration::from_secs(5);
        Shed::new(
            gates[0].clone(),
            Level::Minimal,
            Level::Optimal,
            held_off,
            hint,
        )
    };
    let first = shed(29_991);
    let a = respond(&first);
    let b = respond(&first);
    assert_eq!(made.get(), 1);
    assert!(Rc::ptr_eq(a.body(), b.body()));
    assert_same(a.body(), &shed_reference(&first));
    assert_eq!(a.headers()[RETRY_AFTER], "30");

    // A millisecond later: a new text, made anew.
    let later = shed(29_990);
    let c = respond(&later);
    assert_eq!(made.get(), 2);
    assert_same(c.body(), &shed_reference(&later));
    // Another body type for the same answer is made for itself.
    let d = later.clone().into_response_with(|text| text.len());
    assert_eq!(*d.body(), c.body().len());
    let e = respond(&later);
    assert_eq!(made.get(), 3);
    assert_same(e.body(), &shed_reference(&later));
    // A whole second later, the header follows.
    let f = respond(&shed(28_500));
    assert_eq!(f.headers()[RETRY_AFTER], "29");
    assert!(f.extensions().get::<Shed>().is_some());
}

#[test]
fn header_numbers_are_the_numbers() {
    for n in (0..1_100).chain([u64::from(u32::MAX), u64::MAX]) {
        assert_eq!(header_number(n), n.to_string().as_str());
    }
}

#[test]
fn numbers_are_written_in_full() {
    for n in [0, 1, 9, 10, 99, 100, 12_345, u64::from(u32::MAX), u64::MAX] {
        let mut out = String::new();
        push_u64(&mut out, n);
        assert_eq!(out, n.to_string());
    }
}
