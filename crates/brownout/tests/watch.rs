//! The config-file watcher (feature `watch`): a save applies, a bad edit is
//! refused and the last good configuration stays, a replacing save (write
//! then rename) is seen like an edit in place.
//!
//! File-system notifications arrive on their own time: the tests wait for
//! an observable effect (with a generous deadline), never for a fixed time.
#![cfg(feature = "watch")]

use std::path::Path;
use std::time::Duration;

use brownout::{DegradationManager, ReloadError};

const DEADLINE: Duration = Duration::from_secs(20);

fn toml(weight: u32) -> String {
    format!("[dependencies.db]\nweight = {weight}\n[features.search]\nmin_level = \"DEGRADED\"\n")
}

fn weight(m: &DegradationManager) -> f64 {
    m.config().dependencies["db"].weight
}

/// Waits until `done` holds, or fails after [`DEADLINE`].
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    const STEP: Duration = Duration::from_millis(20);
    let mut waited = Duration::ZERO;
    while !done() {
        assert!(waited < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(STEP);
        waited += STEP;
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("brownout-watch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_save_applies_and_a_bad_edit_keeps_the_last_good_config() {
    let dir = temp_dir("edit");
    let path = dir.join("brownout.toml");
    write(&path, &toml(10));
    let m = DegradationManager::from_toml_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let watcher = m.watch_config(&path).unwrap();
    assert_eq!(watcher.path(), path);

    write(&path, &toml(20));
    wait_for("the edit to apply", || weight(&m) == 20.0);
    assert_eq!(watcher.status().applied, 1, "{:?}", watcher.status());

    write(&path, "[dependencies.db]\nweight = -3\n");
    // Waits for this edit's error: a save seen half-way (the file still
    // empty) is refused too, with its own error.
    wait_for("the bad edit to be refused", || {
        watcher
            .status()
            .last_error
            .is_some_and(|e| e.ends_with("dependencies.db.weight: must be > 0"))
    });
    assert_eq!(weight(&m), 20.0, "the last good config stays");
    let status = watcher.status();
    assert_eq!(
        status
            .last_error
            .as_deref()
            .map(|e| e.ends_with("dependencies.db.weight: must be > 0")),
        Some(true),
        "{status:?}"
    );

    write(&path, &toml(30));
    wait_for("the next good save to apply", || weight(&m) == 30.0);
    assert_eq!(watcher.status().last_error, None);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_replacing_save_is_seen() {
    let dir = temp_dir("rename");
    let path = dir.join("brownout.toml");
    write(&path, &toml(10));
    let m = DegradationManager::from_toml_str(&toml(10)).unwrap();
    let _watcher = m.watch_config(&path).unwrap();
    let staged = dir.join(".brownout.toml.tmp");
    write(&staged, &toml(40));
    std::fs::rename(&staged, &path).unwrap();
    wait_for("the replaced file to apply", || weight(&m) == 40.0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_empty_file_is_refused() {
    let dir = temp_dir("empty");
    let path = dir.join("brownout.toml");
    write(&path, &toml(10));
    let m = DegradationManager::from_toml_str(&toml(10)).unwrap();
    let watcher = m.watch_config(&path).unwrap();
    write(&path, " \n");
    let err = watcher.reload_now().unwrap_err();
    assert!(matches!(err, ReloadError::Empty { .. }), "{err}");
    assert!(
        err.to_string()
            .ends_with("the file is empty; the configuration in force stays")
    );
    assert_eq!(weight(&m), 10.0);
    assert!(matches!(
        m.reload_file(&path),
        Err(ReloadError::Empty { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reload_now_reports_what_it_refused() {
    let dir = temp_dir("now");
    let path = dir.join("brownout.toml");
    write(&path, &toml(10));
    let m = DegradationManager::from_toml_str(&toml(10)).unwrap();
    let watcher = m.watch_config(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(
        watcher.reload_now(),
        Err(ReloadError::Read { .. })
    ));
    write(&path, "[dependencies.db]\nweight = \"heavy\"\n");
    let err = watcher.reload_now().unwrap_err();
    assert!(matches!(err, ReloadError::Invalid { .. }), "{err}");
    assert_eq!(weight(&m), 10.0);
    write(&path, &toml(50));
    watcher.reload_now().unwrap();
    assert_eq!(weight(&m), 50.0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_directory_is_an_error_not_a_panic() {
    let m = DegradationManager::from_toml_str(&toml(10)).unwrap();
    let err = m
        .watch_config("no/such/directory/brownout.toml")
        .unwrap_err();
    assert_eq!(err.path(), Path::new("no/such/directory/brownout.toml"));
    assert!(
        err.to_string()
            .starts_with("watching no/such/directory/brownout.toml: ")
    );
}
