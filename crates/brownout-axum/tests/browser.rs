//! The status page in a real browser: the router served on a loopback port,
//! `/status` rendered by headless Chromium (`--dump-dom`), and assertions on
//! the text a person would read.
//!
//! Skipped (and passing) when neither `chromium` nor `chromium-browser` is
//! on `PATH`; `.ci/chromium.sh` installs Chromium and fails on a skip.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use brownout::{BreakerState, DegradationManager, Level};
use brownout_axum::health_router;

/// A deployment like the reference one: four weighted dependencies, features
/// at every level, one of them requiring `openai`, and a feature name that
/// would be markup if it were not escaped.
const CONFIG: &str = r#"
[levels]
optimal = 90
degraded = 70
limited = 60
minimal = 40
hysteresis = 0
upgrade_hold = "0s"

[dependencies.openai]
weight = 50
failure_threshold = 5
recovery_timeout = "30s"

[dependencies.database]
weight = 30
failure_threshold = 3
recovery_timeout = "20s"

[dependencies.redis]
weight = 15

[dependencies.s3]
weight = 5

[features.stock_lookup]
min_level = "MINIMAL"

[features.checkout]
min_level = "LIMITED"

[features.ai_suggestions]
min_level = "OPTIMAL"
requires = ["openai"]

[features."beta<b>&more"]
min_level = "MINIMAL"
"#;

/// How long Chromium may take before it is killed.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

/// The first of `chromium`, `chromium-browser` found on `PATH`.
fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser"]
        .into_iter()
        .find_map(|name| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|candidate| candidate.is_file())
        })
}

/// Runs headless Chromium on `url` and returns the DOM it rendered; kills it
/// after [`BROWSER_TIMEOUT`].
fn dump_dom(browser: &Path, url: &str, profile: &Path) -> String {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    // Read both pipes on their own threads, so a full pipe never stalls it.
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let stdout = thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let stderr = thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let started = SystemTime::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break Some(status);
        }
        if started.elapsed().unwrap_or_default() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(50));
    };
    let dom = stdout.join().expect("stdout reader");
    let errors = stderr.join().expect("stderr reader");
    match status {
        None => panic!(
            "chromium did not finish within {} s; stderr:\n{errors}",
            BROWSER_TIMEOUT.as_secs()
        ),
        Some(status) if !status.success() || dom.trim().is_empty() => {
            panic!("chromium failed ({status}); stderr:\n{errors}\nstdout:\n{dom}")
        }
        Some(_) => dom,
    }
}

/// The text of an HTML document as a person reads it: table cells joined
/// by ` | `, one line per row, heading and paragraph, tags dropped and
/// entities decoded.
fn visible_text(dom: &str) -> String {
    let body = dom.find("<body").map_or(dom, |i| &dom[i..]);
    let mut text = String::new();
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let tag = &rest[open + 1..open + close];
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let closing = tag.starts_with('/');
        match (closing, name.as_str()) {
            (true, "td" | "th") => text.push_str(" | "),
            (true, "tr" | "h1" | "h2" | "p" | "table") => text.push('\n'),
            _ => {}
        }
        rest = &rest[open + close + 1..];
    }
    text.push_str(rest);
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// Whether `s` starts with a `YYYY-MM-DDTHH:MM:SSZ` timestamp.
fn starts_with_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[..20].iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// The line of `text` that starts with `first_cell |`.
fn line<'a>(text: &'a str, first_cell: &str) -> &'a str {
    text.lines()
        .find(|l| l.trim_start().starts_with(&format!("{first_cell} |")))
        .unwrap_or_else(|| panic!("no line for {first_cell} in:\n{text}"))
}

#[test]
fn status_page_renders_in_headless_chromium() {
    let Some(browser) = find_chromium() else {
        println!(
            "skipped: chromium not installed (neither `chromium` nor `chromium-browser` is on PATH); \
             run .ci/chromium.sh to install it and run this test"
        );
        return;
    };

    // openai open: 50 points lost, MINIMAL; `ai_suggestions` is off because
    // of openai, `checkout` because of the level.
    let manager = DegradationManager::from_toml_str(CONFIG).expect("valid config");
    let openai = manager.breaker("openai").expect("configured");
    for _ in 0..5 {
        let _ = openai.call_sync(|| Err::<(), _>("503 from upstream"));
    }
    assert_eq!(openai.state(), BreakerState::Open);
    assert_eq!(manager.level(), Level::Minimal);
    assert!(!manager.is_enabled("ai_suggestions"));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("bound");
    let app = health_router(manager.clone());
    runtime.spawn(async move { axum::serve(listener, app).await });

    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let profile =
        std::env::temp_dir().join(format!("brownout-chromium-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&profile).expect("create a fresh profile directory");
    let url = format!("http://{addr}/status");
    println!("browser: {}\nurl: {url}", browser.display());
    let dom = dump_dom(&browser, &url, &profile);
    let _ = std::fs::remove_dir_all(&profile);
    runtime.shutdown_timeout(Duration::from_secs(1));

    let text = visible_text(&dom);
    println!("--- rendered text ---\n{}\n---", text.trim());

    // The level, in the heading and the level table.
    assert!(
        text.contains("Service status: MINIMAL"),
        "level heading:\n{text}"
    );
    assert!(line(&text, "effective level").contains("MINIMAL"));
    // The feature off, and the dependency holding it off named.
    let ai = line(&text, "ai_suggestions");
    assert!(ai.contains("| off |"), "{ai}");
    assert!(ai.contains("dependency openai is open"), "{ai}");
    // The one held off by the level says so.
    let checkout = line(&text, "checkout");
    assert!(checkout.contains("| off |"), "{checkout}");
    assert!(
        checkout.contains("level MINIMAL is below LIMITED"),
        "{checkout}"
    );
    assert!(line(&text, "stock_lookup").contains("| on |"));
    // The breaker's state, since when, and what opened it.
    let breaker = line(&text, "openai");
    assert!(breaker.contains("| open |"), "{breaker}");
    assert!(breaker.contains("5 consecutive failures"), "{breaker}");
    assert!(breaker.contains(" ago)"), "{breaker}");
    assert!(line(&text, "database").contains("| closed |"));
    // The last level change and its cause.
    assert!(
        line(&text, "cause").contains("breaker openai closed -> open"),
        "{text}"
    );
    assert!(line(&text, "last change").contains("OPTIMAL → MINIMAL"));
    // A name that would be markup shows as text.
    assert!(line(&text, "beta<b>&more").contains("| on |"), "{text}");
    // When it was rendered.
    let at = text.find("Rendered at ").expect("a rendered-at line") + "Rendered at ".len();
    assert!(
        starts_with_rfc3339(&text[at..]),
        "rendered-at timestamp: {}",
        &text[at..]
    );
}
