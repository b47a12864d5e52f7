use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use brownout::{
    BreakerState, DegradationManager, DependencySnapshot, FeatureSnapshot, Health, HeldOff,
    Snapshot,
};
use http::HeaderValue;
use http::header::CACHE_CONTROL;

use super::describe;
use super::time::{before, human, rfc3339_secs};

/// Seconds between the page's own reloads.
const REFRESH_SECS: u32 = 5;

/// `GET /status`: a self-contained HTML page (inline CSS, no scripts, no
/// external assets) that tells whoever is on call what is off and why:
///
/// - the level with its score, since when it is what it is, and the last
///   level change with its cause (and any manual override);
/// - per dependency its breaker state, since when, what opened it (the trip
///   cause and the counts it saw) and when it allows a trial;
/// - per feature whether it is on and, when off, the level or the
///   dependency holding it off (features that are off come first);
/// - when the page was rendered, in UTC.
///
/// Colours come from [`Level::health`](brownout::Level::health) and
/// [`BreakerState::health`]. It reloads itself every 5 seconds
/// (`<meta http-equiv="refresh">`) and answers `200` at every level,
/// EMERGENCY included. Every name is HTML-escaped. Half-open trials past
/// their timeout are expired first.
pub async fn status_page(State(manager): State<DegradationManager>) -> Response {
    let snapshot = manager.snapshot();
    let mut response = Html(render(&snapshot, SystemTime::now())).into_response();
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

/// The CSS class of a health status: its colour.
fn health_class(health: Health) -> &'static str {
    match health {
        Health::Pass => "ok",
        Health::Warn => "warn",
        Health::Fail => "bad",
    }
}

/// `<time>` with the RFC 3339 timestamp `ago` before `now`, and how long ago.
fn since(now: SystemTime, ago: Duration) -> String {
    let at = rfc3339_secs(before(now, ago));
    format!(
        "<time datetime=\"{at}\">{at}</time> <small>({} ago)</small>",
        human(ago)
    )
}

/// When the next trial is allowed: `in 30 s` (rounded up to whole
/// seconds), or `due now` once the open period is over.
fn next_trial(retry: Duration) -> String {
    let secs = retry.as_secs() + u64::from(retry.subsec_nanos() > 0);
    if secs == 0 {
        "due now".to_owned()
    } else {
        format!("in {secs} s")
    }
}

const STYLE: &str = "body{font:15px/1.4 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}\
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.5rem}\
table{border-collapse:collapse;width:100%;margin-bottom:1rem}\
th,td{text-align:left;vertical-align:top;padding:.3rem .6rem;border-bottom:1px solid #ddd}\
th{font-weight:600;color:#444}\
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.3rem;color:#fff;font-weight:600}\
.ok{background:#2e7d32}.warn{background:#ef6c00}.bad{background:#c62828}.off{background:#757575}\
small,.quiet{color:#666}";

fn render(snapshot: &Snapshot, now: SystemTime) -> String {
    let mut html = String::with_capacity(8192);
    let level = snapshot.level;
    let rendered = rfc3339_secs(now);
    let off = snapshot.features.iter().filter(|f| !f.enabled).count();
    // Writing to a String cannot fail.
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{REFRESH_SECS}\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{level} – service status</title><style>{STYLE}</style></head><body>\
         <h1>Service status: <span class=\"badge {}\" id=\"level\">{level}</span></h1>\
         <p>Health score <strong id=\"score\">{:.1}</strong> / 100; \
         {off} of {} features off.</p>\
         <p id=\"rendered\"><small>Rendered at <time datetime=\"{rendered}\">{rendered}</time> (UTC); \
         this page reloads every {REFRESH_SECS} s.</small></p>\n",
        health_class(level.health()),
        snapshot.score,
        snapshot.features.len(),
    );
    render_level(&mut html, snapshot, now);
    render_dependencies(&mut html, &snapshot.dependencies, now);
    render_features(&mut html, &snapshot.features);
    html.push_str(
        "<p><small>Machine-readable: <a href=\"health\">health</a>.</small></p></body></html>\n",
    );
    html
}

fn render_level(html: &mut String, snapshot: &Snapshot, now: SystemTime) {
    let change = &snapshot.last_change;
    let _ = write!(
        html,
        "<h2>Level</h2><table id=\"level-table\">\
         <tr><th>effective level</th><td><span class=\"badge {}\">{}</span></td></tr>\
         <tr><th>since</th><td>{}</td></tr>\
         <tr><th>last change</th><td>{} → {} <span class=\"quiet\">(score {:.1} then)</span></td></tr>\
         <tr><th>cause</th><td id=\"cause\">{}</td></tr>\
         <tr><th>computed from the score</th><td>{}</td></tr>",
        health_class(snapshot.level.health()),
        snapshot.level,
        since(now, change.ago),
        change.from,
        change.to,
        change.score,
        escape(&change.cause.to_string()),
        snapshot.computed_level,
    );
    if let Some(forced) = &snapshot.override_level {
        let _ = write!(
            html,
            "<tr><th>override</th><td><strong>forced to {}</strong>",
            forced.level
        );
        if let Some(source) = forced.source {
            let _ = write!(html, " by {}", escape(source));
        }
        if let Some(left) = forced.expires_in {
            let _ = write!(html, " for {} more", human(left));
        }
        html.push_str("</td></tr>");
    }
    html.push_str("</table>\n");
}

fn render_dependencies(html: &mut String, dependencies: &[DependencySnapshot], now: SystemTime) {
    html.push_str(
        "<h2>Dependencies</h2><table id=\"dependencies\"><tr><th>dependency</th><th>weight</th>\
         <th>breaker</th><th>since</th><th>opened by</th><th>next trial</th></tr>",
    );
    for d in dependencies {
        let b = &d.breaker;
        let since_cell = b
            .last_transition
            .map(|t| since(now, t.ago))
            .unwrap_or_else(|| "<span class=\"quiet\">start (never changed)</span>".to_owned());
        let opened_by = match &b.last_trip {
            Some(trip) if b.state.is_open() || b.state == BreakerState::HalfOpen => format!(
                "{} <small>({} ago)</small>",
                escape(&describe::trip(trip)),
                human(trip.ago)
            ),
            Some(trip) => format!(
                "<span class=\"quiet\">last time: {}, {} ago</span>",
                escape(&describe::trip(trip)),
                human(trip.ago)
            ),
            None => String::new(),
        };
        let retry = b.retry_after.map(next_trial).unwrap_or_default();
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td><span class=\"badge {}\">{}</span></td>\
             <td>{since_cell}</td><td>{opened_by}</td><td>{retry}</td></tr>",
            escape(&b.name),
            d.weight,
            health_class(b.state.health()),
            b.state,
        );
    }
    html.push_str("</table>\n");
}

/// Why a feature is off, as HTML.
fn held_off(held: &HeldOff) -> String {
    let reason = match held {
        HeldOff::Dependency {
            dependency, state, ..
        } => format!(
            "dependency <strong>{}</strong> is {state}",
            escape(dependency)
        ),
        HeldOff::Level {
            level, required, ..
        } => format!("level <strong>{level}</strong> is below {required}"),
        other => escape(&other.to_string()),
    };
    let trial = match held {
        HeldOff::Level { .. } => "next breaker trial",
        _ => "next trial",
    };
    match held.retry_after() {
        Some(retry) => format!("{reason} <small>({trial} {})</small>", next_trial(retry)),
        None => reason,
    }
}

fn render_features(html: &mut String, features: &[FeatureSnapshot]) {
    html.push_str(
        "<h2>Features</h2><table id=\"features\"><tr><th>feature</th><th>needs</th>\
         <th>state</th><th>held off by</th></tr>",
    );
    // Off first, then on; each in name order (the snapshot's order).
    let (off, on): (Vec<_>, Vec<_>) = features.iter().partition(|f| !f.enabled);
    for f in off.into_iter().chain(on) {
        let (class, text) = if f.enabled {
            ("ok", "on")
        } else {
            ("off", "off")
        };
        let why = f.held_off.as_ref().map(held_off).unwrap_or_default();
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td><span class=\"badge {class}\">{text}</span></td>\
             <td>{why}</td></tr>",
            escape(&f.name),
            f.min_level,
        );
    }
    html.push_str("</table>\n");
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
