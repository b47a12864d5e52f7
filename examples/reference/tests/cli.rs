//! The service's startup errors: clear messages and a non-zero exit, no
//! panic. Needs no server (the addresses point at closed ports).

// Wall-clock time is what a service and a load harness measure; there is
// no ManualClock to inject here.
#![allow(clippy::disallowed_methods)]

mod common;

use std::process::Command;

fn run(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_reference-service"))
        .args(args)
        .env_remove("REFERENCE_PG")
        .env_remove("REFERENCE_REDIS")
        .env_remove("REFERENCE_CONFIG")
        .output()
        .expect("the service binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "a panic: {stderr}");
    (output.status.code().unwrap_or(-1), stderr)
}

#[test]
fn postgres_missing_is_a_clear_error() {
    let port = common::free_port().to_string();
    let pg = format!("host=127.0.0.1 port={port} user=postgres dbname=postgres");
    let (code, stderr) = run(&["--pg", &pg]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("PostgreSQL is not reachable"), "{stderr}");
    assert!(stderr.contains("Connection refused"), "{stderr}");
}

#[test]
fn bad_addresses_are_clear_errors() {
    let (code, stderr) = run(&["--listen", "nowhere"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("bad listen address \"nowhere\""),
        "{stderr}"
    );

    let (code, stderr) = run(&["--redis", "ftp://x"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("bad Redis address"), "{stderr}");

    let (code, stderr) = run(&["--llm-url", "localhost"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("bad openai address"), "{stderr}");

    let (code, stderr) = run(&["--pg", "no such thing"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("bad PostgreSQL address"), "{stderr}");
}

#[test]
fn bad_config_files_are_clear_errors() {
    let (code, stderr) = run(&["--config", "/nonexistent/brownout.toml"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("cannot read config file"), "{stderr}");

    let dir = std::env::temp_dir().join(format!("brownout-reference-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[dependencies.openai]\nweight = -1\n").expect("write");
    let (code, stderr) = run(&["--config", bad.to_str().expect("utf-8 path")]);
    assert_eq!(code, 1);
    assert!(stderr.contains("bad config"), "{stderr}");
    assert!(stderr.contains("weight"), "{stderr}");

    // A valid file without the dependencies the service needs.
    std::fs::write(
        &bad,
        "[dependencies.openai]\nweight = 1\ncall_timeout = \"1s\"\n",
    )
    .expect("write");
    let (code, stderr) = run(&["--config", bad.to_str().expect("utf-8 path")]);
    assert_eq!(code, 1);
    assert!(stderr.contains("no dependency `database`"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
