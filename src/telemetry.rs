//! Structured logs with `tracing`: human text by default, JSON on request.
//! Levels come from `RUST_LOG` (default `info`).
//!
//! Log lines carry text that clients chose (a service reports its visitor's
//! address and browser, people type names), so no field may start a new
//! line or move the cursor: in the text format every control character is
//! written as an escape (`\n`, `\u{1b}`), so a forged "line" stays inside
//! the field it came in. (JSON escapes them by itself.)

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::format::{DefaultFields, FieldFn, Writer, debug_fn};

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    // Colour codes only on a terminal: in a file, a pipe or journald they
    // are noise around every field.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal());
    // A second init (as in tests) is not an error worth failing over.
    let _ = match format {
        LogFormat::Text => builder.fmt_fields(text_fields()).try_init(),
        LogFormat::Json => builder
            .fmt_fields(DefaultFields::new())
            .json()
            .flatten_event(true)
            .try_init(),
    };
}

type FieldWriter =
    fn(&mut Writer<'_>, &tracing::field::Field, &dyn std::fmt::Debug) -> std::fmt::Result;

/// The text format's fields, `name=value` separated by spaces (the message
/// first, without its name), with control characters escaped.
fn text_fields()
-> tracing_subscriber::field::delimited::Delimited<&'static str, FieldFn<FieldWriter>> {
    let write: FieldWriter = |writer, field, value| {
        let text = escape_controls(&format!("{value:?}"));
        if field.name() == "message" {
            writer.write_str(&text)
        } else {
            write!(writer, "{}={text}", field.name())
        }
    };
    debug_fn(write).delimited(" ")
}

/// `text` with every control character written as an escape.
fn escape_controls(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(escape_controls("Firefox/145 – ok"), "Firefox/145 – ok");
        assert_eq!(
            escape_controls("x\nINFO forged\r\u{1b}[2J"),
            "x\\nINFO forged\\r\\u{1b}[2J"
        );
    }

    /// A log line written the way the server writes them, to a buffer.
    fn log_line(emit: impl FnOnce()) -> String {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_target(false)
            .fmt_fields(text_fields())
            .with_writer(move || SharedBuffer(sink.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        let bytes = buffer.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for SharedBuffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_client_text_cannot_forge_a_log_line() {
        let forged = "Mozilla\n2026-12-02T00:00:00Z  INFO admin signed in admin=root";
        let line = log_line(|| {
            tracing::warn!(user_agent = %forged, ip = forged, "login denied {}", forged);
        });
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(line.contains("user_agent=Mozilla\\n2026"), "{line}");
        assert!(line.contains("login denied Mozilla\\n"), "{line}");
    }
}
