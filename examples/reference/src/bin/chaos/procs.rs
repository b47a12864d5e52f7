//! The processes the harness runs: Redis, PostgreSQL (through the
//! `pg-ctl` wrapper the shell script writes), the fake upstreams and the
//! service. Each writes a pid file, so the shell's trap can clean up even
//! if this process is killed.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// A free TCP port on 127.0.0.1 (bound, then released).
pub(crate) fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}

/// The children of the harness, by name.
#[derive(Debug)]
pub(crate) struct Procs {
    logs: PathBuf,
    pids: PathBuf,
    children: HashMap<String, Child>,
}

impl Procs {
    /// Processes logging into `work/logs`, with pid files in `work/pids`.
    pub(crate) fn new(work: &Path) -> Result<Self, String> {
        let logs = work.join("logs");
        let pids = work.join("pids");
        for dir in [&logs, &pids] {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        Ok(Procs {
            logs,
            pids,
            children: HashMap::new(),
        })
    }

    /// The log file of `name`.
    pub(crate) fn log_path(&self, name: &str) -> PathBuf {
        self.logs.join(format!("{name}.log"))
    }

    /// The directory of every log.
    pub(crate) fn logs_dir(&self) -> &Path {
        &self.logs
    }

    /// Starts `program` as `name`, appending its output to its log.
    pub(crate) fn spawn(
        &mut self,
        name: &str,
        program: &Path,
        args: &[String],
    ) -> Result<(), String> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(name))
            .map_err(|e| format!("cannot open the log of {name}: {e}"))?;
        let err = log
            .try_clone()
            .map_err(|e| format!("cannot open the log of {name}: {e}"))?;
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {name} ({}): {e}", program.display()))?;
        if let Some(pid) = child.id() {
            let _ = std::fs::write(self.pids.join(format!("{name}.pid")), pid.to_string());
        }
        self.children.insert(name.to_owned(), child);
        Ok(())
    }

    /// The pid of `name`, if it runs.
    pub(crate) fn pid(&self, name: &str) -> Option<u32> {
        self.children.get(name).and_then(Child::id)
    }

    /// Whether `name` has exited (and how).
    pub(crate) fn exited(&mut self, name: &str) -> Option<String> {
        let child = self.children.get_mut(name)?;
        match child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(e.to_string()),
        }
    }

    /// Sends `signal` (`STOP`, `CONT`, `TERM`, `KILL`) to `name`.
    pub(crate) async fn signal(&self, name: &str, signal: &str) -> Result<(), String> {
        let pid = self
            .pid(name)
            .ok_or_else(|| format!("{name} is not running"))?;
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .await
            .map_err(|e| format!("kill -{signal} {name}: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("kill -{signal} {name}: {status}"))
        }
    }

    /// Kills `name` at once (SIGKILL) and waits for it.
    pub(crate) async fn kill(&mut self, name: &str) {
        if let Some(mut child) = self.children.remove(name) {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
        let _ = std::fs::remove_file(self.pids.join(format!("{name}.pid")));
    }

    /// Asks `name` to stop (SIGTERM, after SIGCONT in case it is paused),
    /// and kills it after `grace`.
    pub(crate) async fn stop(&mut self, name: &str, grace: Duration) {
        let _ = self.signal(name, "CONT").await;
        if self.signal(name, "TERM").await.is_ok()
            && let Some(child) = self.children.get_mut(name)
        {
            let _ = tokio::time::timeout(grace, child.wait()).await;
        }
        self.kill(name).await;
    }

    /// Stops every child.
    pub(crate) async fn stop_all(&mut self) {
        let names: Vec<String> = self.children.keys().cloned().collect();
        for name in names {
            self.stop(&name, Duration::from_secs(5)).await;
        }
    }
}

/// Runs `work/pg-ctl start|stop` (written by the shell script: `pg_ctl` as
/// the right user, on the throwaway cluster).
pub(crate) async fn pg_ctl(pg_ctl: &Path, action: &str) -> Result<(), String> {
    let output = Command::new(pg_ctl)
        .arg(action)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| format!("{} {action}: {e}", pg_ctl.display()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} {action}: {}\n{}{}",
            pg_ctl.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}
