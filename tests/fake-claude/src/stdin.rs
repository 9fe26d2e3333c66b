//! The stdin thread of two-way mode: reads JSON lines, records them, answers `initialize`,
//! unknown requests and idle interrupts itself, and hands the rest to the player's [`Inbox`].

use std::io::{self, BufRead, Write};
use std::sync::Arc;

use serde_json::Value;

use crate::emit::Session;
use crate::inbox::{Inbox, Message};
use crate::{procs, protocol, record};

/// Starts the thread; it runs until stdin's EOF (or a read error), then marks the inbox closed.
pub(crate) fn spawn(inbox: Arc<Inbox>, session: Arc<Session>) -> io::Result<()> {
    std::thread::Builder::new()
        .name("stdin".to_owned())
        .spawn(move || {
            let mut stdin = io::stdin().lock();
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match stdin.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                let text = String::from_utf8_lossy(&buf);
                let line = text.trim();
                if !line.is_empty() {
                    // A write failure (stdout gone) is the player's to report.
                    let _ = handle(line, &inbox, &session);
                }
            }
            inbox.close();
        })
        .map(drop)
}

fn handle(line: &str, inbox: &Inbox, session: &Session) -> io::Result<()> {
    let Ok(message) = serde_json::from_str::<Value>(line) else {
        // Fatal, as in the real CLI: no result, exit 1, the running tool killed.
        let _ = writeln!(
            io::stderr(),
            "Error parsing streaming input line (type={}, {} chars): SyntaxError",
            line_type(line),
            line.chars().count()
        );
        procs::kill_running_tool();
        std::process::exit(1);
    };
    match message["type"].as_str() {
        Some("user") => {
            record::stdin_message(&message);
            inbox.push_message(Message {
                text: user_text(&message),
                content: message["message"]["content"].clone(),
            });
        }
        Some("control_response") => {
            record::stdin_message(&message);
            let response = &message["response"];
            if let Some(id) = response["request_id"].as_str() {
                inbox.push_response(id.to_owned(), response.clone());
            }
        }
        Some("control_request") => {
            record::stdin_message(&message);
            return control_request(&message, inbox, session);
        }
        // Other message types (keep_alive, ...) are ignored.
        _ => {}
    }
    Ok(())
}

fn control_request(message: &Value, inbox: &Inbox, session: &Session) -> io::Result<()> {
    let Some(id) = message["request_id"].as_str() else {
        let _ = writeln!(
            io::stderr(),
            "fake-claude: control_request without request_id"
        );
        return Ok(());
    };
    match message["request"]["subtype"].as_str() {
        Some("initialize") => protocol::initialized(id, session, inbox.session_busy()),
        Some("interrupt") => {
            if inbox.interrupt(id) {
                Ok(()) // the running turn answers it as it stops
            } else {
                protocol::interrupt_done(id)
            }
        }
        other => protocol::unsupported(id, other),
    }
}

/// The `"type"` a broken JSON line names, or `unknown`.
fn line_type(line: &str) -> &str {
    let named = line.split_once("\"type\"").and_then(|(_, rest)| {
        let rest = rest.trim_start().strip_prefix(':')?.trim_start();
        let value = rest.strip_prefix('"')?;
        value.split_once('"').map(|(name, _)| name)
    });
    match named {
        Some(name) if !name.is_empty() => name,
        _ => "unknown",
    }
}

/// The text of a user message: its `content` string, or its text blocks joined by newlines.
pub(crate) fn user_text(message: &Value) -> String {
    let content = &message["message"]["content"];
    if let Some(text) = content.as_str() {
        return text.to_owned();
    }
    let texts: Vec<&str> = content
        .as_array()
        .into_iter()
        .flatten()
        .filter(|block| block["type"] == "text")
        .filter_map(|block| block["text"].as_str())
        .collect();
    texts.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_text_from_a_string_or_blocks() {
        let plain = json!({"type": "user", "message": {"role": "user", "content": "hi"}});
        assert_eq!(user_text(&plain), "hi");
        let blocks = json!({"type": "user", "message": {"role": "user", "content": [
            {"type": "text", "text": "a"}, {"type": "image"}, {"type": "text", "text": "b"}
        ]}});
        assert_eq!(user_text(&blocks), "a\nb");
    }

    #[test]
    fn type_of_a_broken_line() {
        assert_eq!(
            line_type(r#"{"type": "user", "message": {not json"#),
            "user"
        );
        assert_eq!(line_type("hello plain text"), "unknown");
        assert_eq!(line_type(r#"{"type":"#), "unknown");
    }
}
