//! Reloading a config file when it changes (feature `watch`).

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};

use crate::error::ReloadError;
use crate::manager::DegradationManager;

/// How long the file must stay quiet before it is read: an editor's save
/// is often several writes, and half a file is not worth an error.
const SETTLE: Duration = Duration::from_millis(100);

/// Watches a TOML config file and [reconfigures](DegradationManager::reconfigure)
/// the manager each time it changes (feature `watch`).
///
/// A bad edit (unreadable file, invalid TOML, an invalid value) is logged
/// (WARN, target `brownout`) and counted in [`status`](Self::status); the
/// manager keeps the last good configuration, and the next good save
/// applies. Watching stops when the watcher is dropped.
///
/// ```no_run
/// use brownout::DegradationManager;
///
/// let manager = DegradationManager::from_toml_str(&std::fs::read_to_string("brownout.toml")?)?;
/// let watcher = manager.watch_config("brownout.toml")?;
/// // On SIGHUP, or from an admin route: read it now.
/// watcher.reload_now()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use = "dropping the watcher stops watching"]
pub struct ConfigWatcher {
    reloader: Arc<Reloader>,
    _watcher: notify::RecommendedWatcher,
}

/// What a [`ConfigWatcher`] has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WatchStatus {
    /// Reloads applied.
    pub applied: u64,
    /// Reloads refused (the manager kept its configuration).
    pub rejected: u64,
    /// Why the latest refused reload was refused, until one is applied.
    pub last_error: Option<String>,
}

/// The file could not be watched.
#[derive(Debug, thiserror::Error)]
#[error("watching {}: {source}", path.display())]
pub struct WatchError {
    path: PathBuf,
    #[source]
    source: notify::Error,
}

impl WatchError {
    /// The file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads the file into the manager and keeps the score.
#[derive(Debug)]
struct Reloader {
    manager: DegradationManager,
    path: PathBuf,
    status: Mutex<WatchStatus>,
}

impl Reloader {
    fn reload(&self) -> Result<(), ReloadError> {
        let result = self.manager.reload_file(&self.path);
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        match &result {
            Ok(()) => {
                status.applied += 1;
                status.last_error = None;
                crate::events::config_reloaded(&self.path);
            }
            Err(error) => {
                status.rejected += 1;
                status.last_error = Some(error.to_string());
                crate::events::config_rejected(error);
            }
        }
        result
    }
}

impl DegradationManager {
    /// Watches `path` and reloads it into this manager whenever it changes
    /// (feature `watch`); see [`ConfigWatcher`]. The file is not read now:
    /// build the manager from it first.
    ///
    /// The watch is on the file's directory, so a save that replaces the
    /// file (write to a temporary file, then rename, as most editors and
    /// config-management tools do) is seen like an edit in place.
    ///
    /// # Errors
    /// [`WatchError`] when the directory cannot be watched (it does not
    /// exist, or the system's watch limit is reached).
    #[cfg_attr(docsrs, doc(cfg(feature = "watch")))]
    pub fn watch_config(&self, path: impl AsRef<Path>) -> Result<ConfigWatcher, WatchError> {
        let path = path.as_ref().to_owned();
        let directory = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        };
        let file_name = path.file_name().map(ToOwned::to_owned);
        let (changed, changes) = mpsc::channel::<()>();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                let relevant = matches!(
                    event.kind,
                    EventKind::Create(_) | EventKind::Modify(_) | EventKind::Any
                ) && event
                    .paths
                    .iter()
                    .any(|p| p.file_name().map(ToOwned::to_owned) == file_name);
                if relevant {
                    let _ = changed.send(());
                }
            })
            .map_err(|source| WatchError {
                path: path.clone(),
                source,
            })?;
        watcher
            .watch(&directory, RecursiveMode::NonRecursive)
            .map_err(|source| WatchError {
                path: path.clone(),
                source,
            })?;
        let reloader = Arc::new(Reloader {
            manager: self.clone(),
            path,
            status: Mutex::default(),
        });
        let worker = Arc::clone(&reloader);
        std::thread::Builder::new()
            .name("brownout-watch".into())
            .spawn(move || reload_on_change(&changes, &worker))
            .map_err(|error| WatchError {
                path: reloader.path.clone(),
                source: notify::Error::io(error),
            })?;
        Ok(ConfigWatcher {
            reloader,
            _watcher: watcher,
        })
    }
}

/// Reloads once the file has been quiet for [`SETTLE`]; ends when the
/// watcher is dropped (the channel closes).
fn reload_on_change(changes: &Receiver<()>, reloader: &Reloader) {
    while changes.recv().is_ok() {
        loop {
            match changes.recv_timeout(SETTLE) {
                Ok(()) => continue,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        let _ = reloader.reload();
    }
}

impl ConfigWatcher {
    /// Reads the file and applies it now (for a SIGHUP handler or an admin
    /// route), counted in [`status`](Self::status) like a change seen on disk.
    ///
    /// # Errors
    /// As [`DegradationManager::reload_file`]; the manager keeps its configuration.
    pub fn reload_now(&self) -> Result<(), ReloadError> {
        self.reloader.reload()
    }

    /// Reloads applied and refused so far, and the latest refusal.
    #[must_use]
    pub fn status(&self) -> WatchStatus {
        self.reloader
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The watched file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.reloader.path
    }
}
