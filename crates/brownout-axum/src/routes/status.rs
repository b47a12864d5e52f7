use std::fmt::Write as _;

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use brownout::{BreakerState, DegradationManager, Level, Snapshot};
use http::HeaderValue;
use http::header::CACHE_CONTROL;

/// Seconds between the page's own reloads.
const REFRESH_SECS: u32 = 5;

/// `GET /status`: a self-contained HTML page (inline CSS, no scripts, no
/// external assets) with the level, the score, every dependency's breaker
/// and every feature on or off. It reloads itself every 5 seconds
/// (`<meta http-equiv="refresh">`) and answers `200` at every level,
/// EMERGENCY included. Every name is HTML-escaped.
pub async fn status_page(State(manager): State<DegradationManager>) -> Response {
    let mut response = Html(render(&manager.snapshot())).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `s` with `& < > " '` escaped, for text and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn level_class(level: Level) -> &'static str {
    match level {
        Level::Optimal => "ok",
        Level::Degraded | Level::Limited => "warn",
        Level::Minimal | Level::Emergency => "bad",
    }
}

fn state_class(state: BreakerState) -> &'static str {
    match state {
        BreakerState::Closed | BreakerState::Disabled => "ok",
        BreakerState::HalfOpen => "warn",
        BreakerState::Open | BreakerState::ForcedOpen => "bad",
    }
}

const STYLE: &str = "body{font:15px/1.4 system-ui,sans-serif;margin:2rem auto;max-width:52rem;padding:0 1rem;color:#222}\
h1{font-size:1.4rem}table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}\
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #ddd}\
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.3rem;color:#fff;font-weight:600}\
.ok{background:#2e7d32}.warn{background:#ef6c00}.bad{background:#c62828}.off{background:#757575}\
small{color:#666}";

fn render(snapshot: &Snapshot) -> String {
    let mut html = String::with_capacity(4096);
    let level = snapshot.level;
    // Writing to a String cannot fail.
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{REFRESH_SECS}\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{level} – service status</title><style>{STYLE}</style></head><body>\
         <h1>Service status: <span class=\"badge {}\" id=\"level\">{level}</span></h1>\
         <p>Health score <strong id=\"score\">{:.1}</strong> / 100; computed level {}",
        level_class(level),
        snapshot.score,
        snapshot.computed_level,
    );
    if let Some(forced) = &snapshot.override_level {
        let _ = write!(html, "; <strong>forced to {}</strong>", forced.level);
        if let Some(left) = forced.expires_in {
            let _ = write!(html, " for {} s more", left.as_secs());
        }
    }
    html.push_str(".</p>\n<h2>Dependencies</h2><table><tr><th>dependency</th><th>weight</th><th>breaker</th><th>retry in</th></tr>");
    for d in &snapshot.dependencies {
        let b = &d.breaker;
        let retry = b
            .retry_after
            .map(|r| format!("{} s", r.as_secs_f64().ceil()))
            .unwrap_or_default();
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td><span class=\"badge {}\">{}</span></td><td>{retry}</td></tr>",
            escape(&b.name),
            d.weight,
            state_class(b.state),
            b.state,
        );
    }
    html.push_str(
        "</table>\n<h2>Features</h2><table><tr><th>feature</th><th>needs</th><th>state</th></tr>",
    );
    for f in &snapshot.features {
        let (class, text) = if f.enabled {
            ("ok", "on")
        } else {
            ("off", "off")
        };
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td><span class=\"badge {class}\">{text}</span></td></tr>",
            escape(&f.name),
            f.min_level,
        );
    }
    let _ = write!(
        html,
        "</table>\n<p><small>This page reloads every {REFRESH_SECS} s. \
         Machine-readable: <a href=\"health\">health</a>.</small></p></body></html>\n"
    );
    html
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
