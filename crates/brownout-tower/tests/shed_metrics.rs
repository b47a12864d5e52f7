//! Every request a gate sheds is counted in `brownout_requests_shed_total`
//! (`feature` label for a feature gate, `level` for a level gate), read
//! through metrics-util's debugging recorder.

mod support;

use std::collections::BTreeMap;

use brownout::{DegradationManager, DependencyConfig, FeatureConfig, Level};
use brownout_tower::{BoxError, GateLayer};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use support::Counter;
use tower::{Layer, Service, ServiceExt, service_fn};

/// The shed counters that moved since the last snapshot, as `label=value`.
fn shed_counts(snapshotter: &Snapshotter) -> BTreeMap<String, u64> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter_map(|(key, _, _, value)| {
            let key = key.key();
            let label = key.labels().next()?;
            match value {
                DebugValue::Counter(n)
                    if n > 0 && key.name() == brownout::metric_names::REQUESTS_SHED_TOTAL =>
                {
                    Some((format!("{}={}", label.key(), label.value()), n))
                }
                _ => None,
            }
        })
        .collect()
}

fn echo(counter: &Counter) -> impl Service<u32, Response = u32, Error = BoxError> + Clone + use<> {
    let counter = counter.clone();
    service_fn(move |n: u32| {
        counter.hit();
        async move { Ok::<_, BoxError>(n) }
    })
}

#[tokio::test]
async fn every_shed_request_is_counted() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    // The manager binds its metric handles when built.
    let manager = metrics::with_local_recorder(&recorder, || {
        DegradationManager::builder()
            .dependency("database", DependencyConfig::new(1.0))
            .feature("ai_suggestions", FeatureConfig::new(Level::Optimal))
            .build()
            .unwrap()
    });
    let counter = Counter::default();
    let by_feature = GateLayer::feature(&manager, "ai_suggestions")
        .unwrap()
        .layer(echo(&counter));
    let by_level = GateLayer::min_level(&manager, Level::Limited).layer(echo(&counter));

    // Admitted requests count nothing.
    by_feature.clone().oneshot(1).await.unwrap();
    by_level.clone().oneshot(1).await.unwrap();
    assert_eq!(shed_counts(&snapshotter), BTreeMap::new());

    manager.force_level(Level::Minimal, None);
    for _ in 0..3 {
        assert!(by_feature.clone().oneshot(1).await.is_err());
    }
    for _ in 0..2 {
        assert!(by_level.clone().oneshot(1).await.is_err());
    }
    assert_eq!(
        shed_counts(&snapshotter),
        BTreeMap::from([
            ("feature=ai_suggestions".to_owned(), 3),
            ("level=LIMITED".to_owned(), 2),
        ])
    );
    assert_eq!(counter.get(), 2);
}
