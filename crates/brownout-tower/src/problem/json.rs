//! The problem+json body, written by hand into one buffer: byte for byte
//! what `serde_json` wrote before (members in alphabetical order).

use std::fmt::{self, Write as _};

use http::HeaderValue;

use super::facts::{Facts, Held, millis};

/// Writes the body: the members in name order (as a `serde_json` map
/// without `preserve_order` prints them), strings escaped as `serde_json`
/// escapes them.
pub(super) fn write_body(out: &mut String, facts: &Facts<'_>, detail: &dyn fmt::Display) {
    let scalars = &facts.scalars;
    let (uri, title) = scalars.kind.uri_and_title();
    out.push('{');
    if let Some(dependency) = facts.dependency {
        push_key(out, "dependency");
        push_str(out, dependency);
    }
    push_key(out, "detail");
    out.push('"');
    // Writing to a `String` cannot fail, and `Display` of these errors does not.
    let _ = write!(Escaping(out), "{detail}");
    out.push('"');
    if let Some(feature) = facts.feature {
        push_key(out, "feature");
        push_str(out, feature);
    }
    if let Some(held) = scalars.held_off {
        push_key(out, "held_off");
        write_held_off(out, held, facts);
    }
    if let Some((level, required)) = scalars.levels {
        push_key(out, "level");
        push_str(out, level.as_str());
        push_key(out, "required_level");
        push_str(out, required.as_str());
    }
    if let Some(secs) = scalars.retry_after {
        push_key(out, "retry_after");
        push_u64(out, secs);
    }
    if let Some(state) = scalars.state {
        push_key(out, "state");
        push_str(out, state.as_str());
    }
    push_key(out, "status");
    push_u64(out, u64::from(scalars.kind.status().as_u16()));
    if let Some(timeout) = scalars.timeout {
        push_key(out, "timeout_ms");
        push_u64(out, millis(timeout));
    }
    push_key(out, "title");
    push_str(out, title);
    push_key(out, "type");
    push_str(out, uri);
    out.push('}');
}

/// `held_off` as the core serialises it, members in name order.
pub(super) fn write_held_off(out: &mut String, held: Held, facts: &Facts<'_>) {
    let retry_after_ms = |out: &mut String, millis: Option<u64>| {
        push_key(out, "retry_after_ms");
        match millis {
            Some(millis) => push_u64(out, millis),
            None => out.push_str("null"),
        }
    };
    match held {
        Held::Level {
            level,
            required,
            retry_after_ms: millis,
        } => {
            out.push('{');
            push_key(out, "kind");
            push_str(out, "level");
            push_key(out, "level");
            push_str(out, level.as_str());
            push_key(out, "required");
            push_str(out, required.as_str());
            retry_after_ms(out, millis);
            out.push('}');
        }
        Held::Dependency {
            state,
            retry_after_ms: millis,
        } => {
            out.push('{');
            push_key(out, "dependency");
            push_str(out, facts.dependency.unwrap_or_default());
            push_key(out, "kind");
            push_str(out, "dependency");
            retry_after_ms(out, millis);
            push_key(out, "state");
            push_str(out, state.as_str());
            out.push('}');
        }
        Held::Other => {
            let value = facts
                .other
                .and_then(|other| serde_json::to_value(other).ok())
                .unwrap_or_default();
            out.push_str(&value.to_string());
        }
    }
}

/// `"key":`, after a `,` unless it is the first member.
pub(super) fn push_key(out: &mut String, key: &str) {
    if !out.ends_with('{') {
        out.push(',');
    }
    out.push('"');
    out.push_str(key);
    out.push_str("\":");
}

pub(super) fn push_str(out: &mut String, s: &str) {
    out.push('"');
    push_escaped(out, s);
    out.push('"');
}

/// `s` escaped for a JSON string, as `serde_json` does: `"` and `\`, and
/// control characters as `\b \t \n \f \r` or `\u00xx`.
pub(super) fn push_escaped(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            0x0C => "\\f",
            b'\r' => "\\r",
            0x00..=0x1F => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xF)]));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

pub(super) fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0_u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        // A single decimal digit.
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &digits[at..] {
        out.push(char::from(digit));
    }
}

/// A `fmt::Write` that escapes what it is given into a JSON string.
pub(super) struct Escaping<'a>(&'a mut String);

impl fmt::Write for Escaping<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        push_escaped(self.0, s);
        Ok(())
    }
}

/// The decimal numbers 0 to 999 back to back: the usual `Retry-After`
/// values as static header values, cloned and dropped without touching a
/// reference count.
pub(super) static DIGITS: [u8; 2890] = digits();

pub(super) const fn digits() -> [u8; 2890] {
    let mut out = [0; 2890];
    let (mut n, mut at) = (0, 0);
    while n < 1000 {
        if n >= 100 {
            out[at] = b'0' + (n / 100) as u8;
            at += 1;
        }
        if n >= 10 {
            out[at] = b'0' + (n / 10 % 10) as u8;
            at += 1;
        }
        out[at] = b'0' + (n % 10) as u8;
        at += 1;
        n += 1;
    }
    out
}

/// `n` as a header value, static below 1000.
pub(super) fn header_number(n: u64) -> HeaderValue {
    let (start, len) = match n {
        0..=9 => (n, 1),
        10..=99 => (10 + (n - 10) * 2, 2),
        100..=999 => (190 + (n - 100) * 3, 3),
        _ => return HeaderValue::from(n),
    };
    // In range: `start + len` is at most 2890.
    let digits = &DIGITS[start as usize..(start + len) as usize];
    match std::str::from_utf8(digits) {
        Ok(digits) => HeaderValue::from_static(digits),
        Err(_) => HeaderValue::from(n),
    }
}
