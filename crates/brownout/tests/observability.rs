//! The `metrics` output, checked through `metrics-util`'s
//! debugging recorder: exact names, labels, kinds, units and values for the
//! reference deployment (`examples/brownout.toml`) before, during and after a
//! scripted `openai` outage; and the Grafana dashboard and Prometheus alert
//! rules in `docs/` use only metric names the crate really emits.

#![cfg(feature = "metrics")]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use allocation_counter::measure;
use brownout::clock::ManualClock;
use brownout::{BreakerState, Config, DegradationManager, Error, Level, metric_names};
use metrics::Unit;
use metrics_util::MetricKind;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

const REFERENCE: &str = include_str!("../../../examples/brownout.toml");

const DEPENDENCIES: [&str; 4] = ["database", "openai", "redis", "s3"];
const OUTCOMES: [&str; 5] = ["failure", "ignored", "rejected", "success", "timeout"];

/// One series' value as the recorder holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value {
    Counter(u64),
    Gauge(f64),
}

/// A snapshot keyed by `name{label="value",…}` (labels sorted), so failures
/// print like Prometheus series.
#[derive(Debug, Default)]
struct Series {
    values: BTreeMap<String, Value>,
    units: BTreeMap<String, Option<Unit>>,
    described: BTreeSet<String>,
}

impl Series {
    fn take(snapshotter: &Snapshotter) -> Series {
        let mut series = Series::default();
        for (key, unit, description, value) in snapshotter.snapshot().into_vec() {
            let (kind, key) = key.into_parts();
            let mut labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}=\"{}\"", l.key(), l.value()))
                .collect();
            labels.sort();
            let name = key.name().to_owned();
            let id = if labels.is_empty() {
                name.clone()
            } else {
                format!("{name}{{{}}}", labels.join(","))
            };
            let value = match (kind, value) {
                (MetricKind::Counter, DebugValue::Counter(v)) => Value::Counter(v),
                (MetricKind::Gauge, DebugValue::Gauge(v)) => Value::Gauge(v.into_inner()),
                other => panic!("{id}: unexpected kind/value {other:?}"),
            };
            assert!(
                series.values.insert(id.clone(), value).is_none(),
                "{id} twice"
            );
            series.units.insert(name.clone(), unit);
            if description.is_some() {
                series.described.insert(name);
            }
        }
        series
    }

    #[track_caller]
    fn get(&self, id: &str) -> Value {
        *self
            .values
            .get(id)
            .unwrap_or_else(|| panic!("no series {id}; have {:#?}", self.values.keys()))
    }

    #[track_caller]
    fn gauge(&self, id: &str) -> f64 {
        match self.get(id) {
            Value::Gauge(v) => v,
            other => panic!("{id} is {other:?}, not a gauge"),
        }
    }

    /// Counters that moved since the previous snapshot (the debugging
    /// recorder hands out deltas), by series.
    fn counted(&self) -> BTreeMap<&str, u64> {
        self.values
            .iter()
            .filter_map(|(id, v)| match v {
                Value::Counter(n) if *n != 0 => Some((id.as_str(), *n)),
                _ => None,
            })
            .collect()
    }

    /// Metric names present.
    fn names(&self) -> BTreeSet<String> {
        self.values
            .keys()
            .map(|id| id.split('{').next().unwrap_or(id).to_owned())
            .collect()
    }

    /// The feature gauges that read 1, by feature name.
    fn features_on(&self) -> BTreeSet<&str> {
        self.values
            .iter()
            .filter(|(_, v)| **v == Value::Gauge(1.0))
            .filter_map(|(id, _)| id.strip_prefix("brownout_feature_enabled{feature=\""))
            .map(|rest| rest.trim_end_matches("\"}"))
            .collect()
    }
}

fn calls(dependency: &str, outcome: &str) -> String {
    format!("brownout_calls_total{{dependency=\"{dependency}\",outcome=\"{outcome}\"}}")
}

fn transitions(dependency: &str, from: &str, to: &str) -> String {
    format!(
        "brownout_breaker_transitions_total{{dependency=\"{dependency}\",from=\"{from}\",to=\"{to}\"}}"
    )
}

fn state(dependency: &str) -> String {
    format!("brownout_breaker_state{{dependency=\"{dependency}\"}}")
}

fn feature(name: &str) -> String {
    format!("brownout_feature_enabled{{feature=\"{name}\"}}")
}

fn shed(label: &str, value: &str) -> String {
    format!("brownout_requests_shed_total{{{label}=\"{value}\"}}")
}

/// The reference manager on a manual clock, built with `recorder` as the
/// thread's recorder: the handles bind to it here, once.
fn reference(recorder: &DebuggingRecorder) -> (DegradationManager, ManualClock) {
    let clock = ManualClock::new();
    let config = Config::from_toml_str(REFERENCE).expect("reference config");
    let manager = metrics::with_local_recorder(recorder, || {
        DegradationManager::builder()
            .config(config)
            .clock(clock.clone())
            .build()
            .expect("reference manager")
    });
    (manager, clock)
}

/// The outage, in three steps: `openai` fails five times (closed → open) and
/// one call is rejected; 30 s later one successful trial (open → half-open);
/// then a second one (half-open → closed).
struct Outage {
    manager: DegradationManager,
    clock: ManualClock,
}

impl Outage {
    fn open(&self) {
        let openai = self.manager.breaker("openai").expect("openai");
        for _ in 0..5 {
            let r = openai.call_sync(|| Err::<(), _>("503 from upstream"));
            assert!(matches!(r, Err(Error::Inner(_))));
        }
        assert_eq!(openai.state(), BreakerState::Open);
        let r = openai.call_sync(|| Ok::<_, ()>(()));
        assert!(matches!(r, Err(Error::Rejected(_))), "{r:?}");
    }

    fn first_trial(&self) {
        self.clock.advance(Duration::from_secs(30));
        let openai = self.manager.breaker("openai").expect("openai");
        assert!(openai.call_sync(|| Ok::<_, ()>(())).is_ok());
        assert_eq!(openai.state(), BreakerState::HalfOpen);
    }

    fn second_trial(&self) {
        let openai = self.manager.breaker("openai").expect("openai");
        assert!(openai.call_sync(|| Ok::<_, ()>(())).is_ok());
        assert_eq!(openai.state(), BreakerState::Closed);
    }

    fn run(&self) {
        self.open();
        self.first_trial();
        self.second_trial();
    }
}

fn feature_names() -> Vec<String> {
    let config = Config::from_toml_str(REFERENCE).expect("reference config");
    config.features.keys().cloned().collect()
}

/// Every series is registered when the manager is built, with its initial
/// value: 20 call counters, 80 transition counters (every ordered pair of
/// distinct states, per dependency), 4 state gauges, score, level, 16 gates,
/// and 21 shed counters (one per feature, one per level).
#[test]
fn every_series_is_registered_at_build_with_its_initial_value() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let (manager, _clock) = reference(&recorder);
    let s = Series::take(&snapshotter);

    let mut expected = BTreeMap::new();
    for dep in DEPENDENCIES {
        for outcome in OUTCOMES {
            expected.insert(calls(dep, outcome), Value::Counter(0));
        }
        for from in BreakerState::ALL {
            for to in BreakerState::ALL.into_iter().filter(|&to| to != from) {
                expected.insert(
                    transitions(dep, from.as_str(), to.as_str()),
                    Value::Counter(0),
                );
            }
        }
        expected.insert(state(dep), Value::Gauge(0.0));
    }
    expected.insert("brownout_health_score".into(), Value::Gauge(100.0));
    expected.insert("brownout_level".into(), Value::Gauge(4.0));
    let features = feature_names();
    assert_eq!(features.len(), 16);
    for name in &features {
        expected.insert(feature(name), Value::Gauge(1.0));
        expected.insert(shed("feature", name), Value::Counter(0));
    }
    for level in Level::ALL {
        expected.insert(shed("level", level.as_str()), Value::Counter(0));
    }
    assert_eq!(expected.len(), 143);
    assert_eq!(s.values, expected);
    assert_eq!(manager.enabled_features().len(), 16);

    // Names, kinds' units and descriptions: exactly the documented ones.
    let all: BTreeSet<String> = metric_names::ALL.iter().map(|&n| n.to_owned()).collect();
    assert_eq!(s.names(), all);
    assert_eq!(s.described, all, "every metric is described");
    assert_eq!(s.units["brownout_calls_total"], Some(Unit::Count));
    assert_eq!(
        s.units["brownout_breaker_transitions_total"],
        Some(Unit::Count)
    );
}

/// The totals after the whole outage, in one snapshot. The manager is built
/// with the recorder as the thread's local recorder and the outage runs
/// after that scope has ended: the handles, transitions included, were bound
/// at build time and no series is looked up or registered later.
#[test]
fn scripted_outage_totals_with_handles_bound_at_build() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let (manager, clock) = reference(&recorder);
    Outage {
        manager: manager.clone(),
        clock,
    }
    .run();
    manager.flush_metrics(); // per-call counts are published on flush
    let s = Series::take(&snapshotter);

    assert_eq!(
        s.counted(),
        BTreeMap::from([
            (calls("openai", "failure").as_str(), 5),
            (calls("openai", "rejected").as_str(), 1),
            (calls("openai", "success").as_str(), 2),
            (transitions("openai", "closed", "open").as_str(), 1),
            (transitions("openai", "open", "half_open").as_str(), 1),
            (transitions("openai", "half_open", "closed").as_str(), 1),
        ])
    );
    assert_eq!(s.get(&calls("openai", "ignored")), Value::Counter(0));
    assert_eq!(s.gauge(&state("openai")), 0.0);
    assert_eq!(s.gauge("brownout_health_score"), 100.0);
    assert_eq!(s.gauge("brownout_level"), f64::from(Level::Optimal.as_u8()));
    assert_eq!(s.gauge(&feature("ai_suggestions")), 1.0);
    assert_eq!(s.features_on().len(), 16);
    assert_eq!(s.values.len(), 143, "nothing registered after build");
}

/// The same outage step by step. The debugging recorder hands out counter
/// deltas and resets gauges on every snapshot, so each step shows exactly
/// what it recorded: its increments and the gauges it published.
#[test]
fn scripted_outage_step_by_step() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let (manager, clock) = reference(&recorder);
    let outage = Outage { manager, clock };
    outage.manager.flush_metrics(); // per-call counts are published on flush
    let _ = Series::take(&snapshotter); // the build's values, checked above

    // closed -> open: score 50 (openai weighs 50 of 100), MINIMAL (>= 40, < 60).
    outage.open();
    outage.manager.flush_metrics(); // per-call counts are published on flush
    let s = Series::take(&snapshotter);
    assert_eq!(
        s.counted(),
        BTreeMap::from([
            (calls("openai", "failure").as_str(), 5),
            (calls("openai", "rejected").as_str(), 1),
            (transitions("openai", "closed", "open").as_str(), 1),
        ])
    );
    assert_eq!(s.gauge(&state("openai")), 1.0);
    assert_eq!(s.gauge("brownout_health_score"), 50.0);
    assert_eq!(s.gauge("brownout_level"), f64::from(Level::Minimal.as_u8()));
    assert_eq!(
        s.features_on(),
        BTreeSet::from([
            "order_status",
            "product_details",
            "stock_lookup",
            "store_locator"
        ])
    );
    assert_eq!(s.gauge(&feature("ai_suggestions")), 0.0);
    assert_eq!(s.gauge(&feature("checkout")), 0.0);

    // open -> half-open: a trial earns no credit, so the score stays 50 and
    // the level MINIMAL until the breaker closes.
    outage.first_trial();
    outage.manager.flush_metrics(); // per-call counts are published on flush
    let s = Series::take(&snapshotter);
    assert_eq!(
        s.counted(),
        BTreeMap::from([
            // Call counts are running totals (published with `absolute`).
            (calls("openai", "failure").as_str(), 5),
            (calls("openai", "rejected").as_str(), 1),
            (calls("openai", "success").as_str(), 1),
            (transitions("openai", "open", "half_open").as_str(), 1),
        ])
    );
    assert_eq!(s.gauge(&state("openai")), 2.0);
    assert_eq!(s.gauge("brownout_health_score"), 50.0);
    assert_eq!(s.gauge("brownout_level"), f64::from(Level::Minimal.as_u8()));
    let on = s.features_on();
    assert_eq!(on.len(), 4, "{on:?}");

    // half-open -> closed: everything back.
    outage.second_trial();
    outage.manager.flush_metrics(); // per-call counts are published on flush
    let s = Series::take(&snapshotter);
    assert_eq!(
        s.counted(),
        BTreeMap::from([
            (calls("openai", "failure").as_str(), 5),
            (calls("openai", "rejected").as_str(), 1),
            (calls("openai", "success").as_str(), 2),
            (transitions("openai", "half_open", "closed").as_str(), 1),
        ])
    );
    assert_eq!(s.gauge("brownout_health_score"), 100.0);
    assert_eq!(s.gauge("brownout_level"), f64::from(Level::Optimal.as_u8()));
    assert_eq!(s.features_on().len(), 16);
}

/// Forced open and disabled are exported as 3 and 4, with their transitions.
#[test]
fn manual_states_are_exported() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let (manager, _clock) = reference(&recorder);
    manager.flush_metrics(); // per-call counts are published on flush
    let _ = Series::take(&snapshotter);

    let database = manager.breaker("database").expect("database");
    database.force_open();
    let r = database.call_sync(|| Ok::<_, ()>(()));
    assert!(matches!(r, Err(Error::Rejected(_))));
    manager.flush_metrics(); // per-call counts are published on flush
    let s = Series::take(&snapshotter);
    assert_eq!(s.gauge(&state("database")), 3.0);
    assert_eq!(s.gauge("brownout_health_score"), 70.0);
    assert_eq!(
        s.gauge("brownout_level"),
        f64::from(Level::Degraded.as_u8())
    );
    assert_eq!(
        s.counted(),
        BTreeMap::from([
            (calls("database", "rejected").as_str(), 1),
            (transitions("database", "closed", "forced_open").as_str(), 1),
        ])
    );

    database.disable();
    assert!(database.call_sync(|| Ok::<_, ()>(())).is_ok());
    manager.flush_metrics(); // per-call counts are published on flush
    let s = Series::take(&snapshotter);
    assert_eq!(s.gauge(&state("database")), 4.0);
    assert_eq!(s.gauge("brownout_level"), f64::from(Level::Optimal.as_u8()));
    assert_eq!(
        s.counted(),
        BTreeMap::from([
            (calls("database", "rejected").as_str(), 1),
            (calls("database", "success").as_str(), 1),
            (
                transitions("database", "forced_open", "disabled").as_str(),
                1
            ),
        ])
    );
}

/// A reload registers handles for what it adds, reports what it removes as
/// off, and the kept breakers keep counting into their series.
#[test]
fn metrics_follow_a_reload() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let (manager, _clock) = reference(&recorder);
    let mut config = manager.config();
    config.features.remove("live_sales_dashboard");
    config.features.insert(
        "gift_wrap".into(),
        brownout::FeatureConfig::new(Level::Limited),
    );
    config
        .dependencies
        .insert("search_index".into(), brownout::DependencyConfig::new(10.0));
    metrics::with_local_recorder(&recorder, || manager.reconfigure(config)).expect("valid");
    let s = Series::take(&snapshotter);
    assert_eq!(s.gauge(&feature("live_sales_dashboard")), 0.0);
    assert_eq!(s.gauge(&feature("gift_wrap")), 1.0);
    assert_eq!(s.gauge(&state("search_index")), 0.0);
    assert_eq!(s.gauge("brownout_health_score"), 100.0);

    let search_index = manager.breaker("search_index").expect("added");
    let _ = search_index.call_sync(|| Err::<(), _>("down"));
    assert!(
        manager
            .breaker("redis")
            .expect("kept")
            .call_sync(|| Ok::<_, ()>(()))
            .is_ok()
    );
    manager.flush_metrics();
    let s = Series::take(&snapshotter);
    assert_eq!(
        s.counted(),
        BTreeMap::from([
            (calls("search_index", "failure").as_str(), 1),
            (calls("redis", "success").as_str(), 1),
        ])
    );
}

/// With a recorder behind the handles, a closed success, a failure and an
/// open rejection still allocate nothing.
#[test]
fn recording_calls_allocates_nothing() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let (manager, _clock) = reference(&recorder);
    let redis = manager.breaker("redis").expect("redis");
    let database = manager.breaker("database").expect("database");
    for _ in 0..3 {
        let _ = database.call_sync(|| Err::<(), _>("down"));
    }
    assert_eq!(database.state(), BreakerState::Open);
    let _ = redis.call_sync(|| Ok::<_, ()>(()));
    let _ = database.call_sync(|| Ok::<_, ()>(()));
    manager.flush_metrics(); // per-call counts are published on flush
    let _ = Series::take(&snapshotter);

    // The counting allocator is live in this binary.
    assert_eq!(
        measure(|| drop(std::hint::black_box(Box::new(1u8)))).count_total,
        1
    );

    let info = measure(|| {
        for i in 0..10_000u32 {
            let _ = redis.call_sync(|| if i % 4 == 3 { Err(()) } else { Ok(()) });
            let _ = database.call_sync(|| Ok::<_, ()>(()));
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");

    manager.flush_metrics(); // per-call counts are published on flush
    let s = Series::take(&snapshotter);
    // Running totals: one success from the warm-up call above.
    assert_eq!(s.get(&calls("redis", "success")), Value::Counter(7_501));
    assert_eq!(s.get(&calls("redis", "failure")), Value::Counter(2_500));
    assert_eq!(
        s.get(&calls("database", "rejected")),
        Value::Counter(10_001)
    );
}

// ---- docs/grafana/brownout.json and docs/prometheus/alerts.yml ----

fn doc(path: &str) -> String {
    let full: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "..", "docs", path]
        .iter()
        .collect();
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// Every `brownout_[a-z_]+` identifier in `text` (not preceded by an
/// identifier character, so `x_brownout_y` or a uid like `brownout-…` is not one).
fn metric_identifiers(text: &str, into: &mut BTreeSet<String>) {
    let bytes = text.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b':';
    let mut from = 0;
    while let Some(at) = text[from..].find("brownout_") {
        let start = from + at;
        let mut end = start + "brownout_".len();
        while end < bytes.len() && (bytes[end].is_ascii_lowercase() || bytes[end] == b'_') {
            end += 1;
        }
        let boundary_before = start == 0 || !ident(bytes[start - 1]);
        let boundary_after = end == bytes.len() || !ident(bytes[end]);
        if boundary_before && boundary_after {
            into.insert(text[start..end].to_owned());
        }
        from = end;
    }
}

/// Every string in a JSON document.
fn json_strings<'a>(value: &'a serde_json::Value, into: &mut Vec<&'a str>) {
    match value {
        serde_json::Value::String(s) => into.push(s),
        serde_json::Value::Array(items) => items.iter().for_each(|v| json_strings(v, into)),
        serde_json::Value::Object(map) => map.values().for_each(|v| json_strings(v, into)),
        _ => {}
    }
}

/// The names the scripted outage made the recorder see.
fn emitted_names() -> BTreeSet<String> {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let (manager, clock) = reference(&recorder);
    Outage {
        manager: manager.clone(),
        clock,
    }
    .run();
    manager.flush_metrics(); // per-call counts are published on flush
    Series::take(&snapshotter).names()
}

#[track_caller]
fn assert_known(what: &str, used: &BTreeSet<String>, emitted: &BTreeSet<String>) {
    assert!(!used.is_empty(), "{what} uses no brownout metric");
    for name in used {
        assert!(
            metric_names::ALL.contains(&name.as_str()),
            "{what} uses {name}, which is not in brownout::metric_names::ALL"
        );
        assert!(
            emitted.contains(name),
            "{what} uses {name}, which the scripted outage never emitted"
        );
    }
}

#[test]
fn grafana_dashboard_uses_only_emitted_metrics_and_all_of_them() {
    let dashboard: serde_json::Value =
        serde_json::from_str(&doc("grafana/brownout.json")).expect("dashboard is JSON");
    let mut strings = Vec::new();
    json_strings(&dashboard, &mut strings);
    let mut used = BTreeSet::new();
    for s in &strings {
        metric_identifiers(s, &mut used);
    }
    let emitted = emitted_names();
    assert_known("docs/grafana/brownout.json", &used, &emitted);
    for name in metric_names::ALL {
        assert!(used.contains(name), "the dashboard shows no {name}");
    }

    // Every panel's queries point at the Prometheus datasource variable.
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 6);
    for panel in panels.iter().filter(|p| p["type"] != "row") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            assert!(expr.contains("brownout_"), "{expr}");
        }
    }
}

/// The dashboard's value mappings name the levels and breaker states as the
/// crate numbers them.
#[test]
fn grafana_value_mappings_match_the_crate() {
    let dashboard: serde_json::Value =
        serde_json::from_str(&doc("grafana/brownout.json")).expect("dashboard is JSON");
    let mut level_panels = 0;
    let mut state_panels = 0;
    for panel in dashboard["panels"].as_array().expect("panels") {
        let exprs: String = panel["targets"]
            .as_array()
            .map(|t| t.iter().filter_map(|t| t["expr"].as_str()).collect())
            .unwrap_or_default();
        let mut text = Vec::new();
        if let Some(mappings) = panel["fieldConfig"]["defaults"]["mappings"].as_array() {
            for mapping in mappings.iter().filter(|m| m["type"] == "value") {
                for (value, shown) in mapping["options"].as_object().expect("options") {
                    text.push((
                        value.parse::<u8>().expect("numeric value"),
                        shown["text"].as_str().expect("text").to_owned(),
                    ));
                }
            }
        }
        text.sort();
        let mut used = BTreeSet::new();
        metric_identifiers(&exprs, &mut used);
        if used.contains("brownout_level") && !text.is_empty() {
            level_panels += 1;
            let expected: Vec<(u8, String)> = Level::ALL
                .iter()
                .map(|l| (l.as_u8(), l.as_str().to_owned()))
                .collect();
            let mut expected = expected;
            expected.sort();
            assert_eq!(text, expected, "{}", panel["title"]);
        }
        if used.contains("brownout_breaker_state") && !text.is_empty() {
            state_panels += 1;
            let expected: Vec<(u8, String)> = BreakerState::ALL
                .iter()
                .map(|s| (*s as u8, s.as_str().to_owned()))
                .collect();
            assert_eq!(text, expected, "{}", panel["title"]);
        }
    }
    assert!(level_panels >= 1, "no level panel maps 0..4 to level names");
    assert!(
        state_panels >= 1,
        "no breaker state panel maps 0..4 to states"
    );
}

#[test]
fn prometheus_alerts_use_only_emitted_metrics() {
    let text = doc("prometheus/alerts.yml");
    let rules: serde_yaml::Value = serde_yaml::from_str(&text).expect("alerts.yml is YAML");
    let groups = rules["groups"].as_sequence().expect("groups");
    let mut used = BTreeSet::new();
    let mut alerts = BTreeMap::new();
    for group in groups {
        assert!(group["name"].as_str().is_some(), "a group without a name");
        for rule in group["rules"].as_sequence().expect("rules") {
            let name = rule["alert"].as_str().expect("every rule is an alert");
            let expr = rule["expr"].as_str().expect("expr");
            let hold = rule["for"].as_str().expect("for");
            assert!(rule["labels"]["severity"].as_str().is_some(), "{name}");
            assert!(rule["annotations"]["summary"].as_str().is_some(), "{name}");
            metric_identifiers(expr, &mut used);
            for value in rule["annotations"]
                .as_mapping()
                .expect("annotations")
                .values()
            {
                metric_identifiers(value.as_str().unwrap_or_default(), &mut used);
            }
            alerts.insert(name.to_owned(), (expr.to_owned(), hold.to_owned()));
        }
    }
    assert_known("docs/prometheus/alerts.yml", &used, &emitted_names());

    // The rules the docs describe.
    let find = |needle: &str| {
        alerts
            .values()
            .find(|(expr, _)| expr.contains(needle))
            .unwrap_or_else(|| panic!("no alert on {needle}: {alerts:#?}"))
    };
    assert_eq!(find("min_over_time(brownout_level[2m]) < 3").1, "5m");
    let open = find("brownout_breaker_state");
    assert_eq!(open.1, "10m");
    assert!(
        open.0.contains("== 1") && open.0.contains("== 3"),
        "{}",
        open.0
    );
    assert!(
        find("brownout_breaker_transitions_total")
            .0
            .contains("increase(")
    );
}

#[test]
fn identifier_scan() {
    let mut found = BTreeSet::new();
    metric_identifiers(
        "sum(rate(brownout_calls_total{x=\"brownout-uid\"}[5m])) / my_brownout_level + brownout_level",
        &mut found,
    );
    assert_eq!(
        found,
        BTreeSet::from(["brownout_calls_total".into(), "brownout_level".into()])
    );
}
