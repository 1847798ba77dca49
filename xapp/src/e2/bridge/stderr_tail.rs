//! The child's stderr, passed through to the xApp's own stderr line by line, with its last
//! line kept: what a C library printed just before it aborted the child (FlexRIC's
//! `Assertion ... failed.`, seen against a real OAI gNB) becomes part of the restart reason on
//! `/ric/v1/health/ready`, instead of only "signal: 6 (SIGABRT)".

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::task::JoinHandle;

/// Longest last line kept, in characters (the rest is cut with an ellipsis).
const MAX_CHARS: usize = 300;

/// How long to wait, after the child exited, for its stderr to reach end of stream.
const DRAIN: Duration = Duration::from_millis(300);

/// Follows one child's stderr.
pub struct StderrTail {
    last: Arc<Mutex<Option<String>>>,
    task: JoinHandle<()>,
}

impl StderrTail {
    /// Starts copying `stderr` to this process's stderr, keeping the last non-empty line.
    pub fn follow<R: AsyncRead + Unpin + Send + 'static>(stderr: R) -> Self {
        let last = Arc::new(Mutex::new(None));
        let kept = Arc::clone(&last);
        let task = tokio::spawn(async move {
            let mut input = BufReader::new(stderr);
            let mut line = Vec::new();
            loop {
                line.clear();
                match input.read_until(b'\n', &mut line).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                // Passed through as it came, colours and all (as tracing writes: at once).
                let _ = std::io::stderr().lock().write_all(&line);
                let text = plain(&String::from_utf8_lossy(&line));
                if !text.is_empty() {
                    *kept.lock().unwrap_or_else(|p| p.into_inner()) = Some(text);
                }
            }
        });
        Self { last, task }
    }

    /// The last line the child wrote, once its stderr closed (or after a short wait).
    pub async fn last_line(mut self) -> Option<String> {
        if tokio::time::timeout(DRAIN, &mut self.task).await.is_err() {
            self.task.abort();
        }
        self.last.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

impl Drop for StderrTail {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `text` without ANSI escape sequences (tracing colours its levels), trimmed and cut to
/// [`MAX_CHARS`].
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC '[' parameters ... final byte in '@'..='~'.
            if chars.peek() == Some(&'[') {
                chars.next();
                for f in chars.by_ref() {
                    if ('@'..='~').contains(&f) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    let trimmed = out.trim();
    if trimmed.chars().count() > MAX_CHARS {
        let cut: String = trimmed.chars().take(MAX_CHARS).collect();
        format!("{cut}…")
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_drops_colours_and_cuts_long_lines() {
        assert_eq!(
            plain("\u{1b}[2m2026\u{1b}[0m \u{1b}[31mERROR\u{1b}[0m lost\n"),
            "2026 ERROR lost"
        );
        let long = "x".repeat(MAX_CHARS + 10);
        assert_eq!(plain(&long).chars().count(), MAX_CHARS + 1);
    }

    #[tokio::test]
    async fn keeps_the_last_non_empty_line() {
        let text: &[u8] = b"first\nmaestro: db.c:322: insert_db: Assertion `rc == 0' failed.\n\n";
        let tail = StderrTail::follow(text);
        assert_eq!(
            tail.last_line().await.as_deref(),
            Some("maestro: db.c:322: insert_db: Assertion `rc == 0' failed.")
        );
    }
}
