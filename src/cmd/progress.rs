//! The progress display of long runs, on standard error.
//!
//! On a terminal it is one line redrawn in place, fitted to the terminal's width as it is at
//! each frame: a line wider than the window wraps, and every `\r` then starts a new row. In a
//! log (standard error not a terminal, and only when `--progress` asks) `\r` frames would be
//! noise, so it is a plain line every few seconds and one at the end.

use std::io::{self, IsTerminal, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::size::human_bytes;
use crate::threads;

/// How often a terminal's line is redrawn.
const TERMINAL_INTERVAL: Duration = Duration::from_millis(200);

/// How often a line is written to a log.
const LOG_INTERVAL: Duration = Duration::from_secs(5);

/// The width assumed when a terminal does not say its own.
const DEFAULT_WIDTH: usize = 80;

/// Where progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Display {
    /// Standard error is a terminal: one line, redrawn.
    Terminal,
    /// Standard error is a file or pipe: occasional plain lines.
    Log,
}

impl Display {
    /// Where a run shows progress: on a terminal unless `quiet` (and `--progress`, `asked`,
    /// does not insist), in a log only when `asked`.
    pub(crate) fn choose(asked: bool, quiet: bool) -> Option<Display> {
        match io::stderr().is_terminal() {
            true if asked || !quiet => Some(Display::Terminal),
            false if asked => Some(Display::Log),
            _ => None,
        }
    }

    fn interval(self) -> Duration {
        match self {
            Display::Terminal => TERMINAL_INTERVAL,
            Display::Log => LOG_INTERVAL,
        }
    }

    /// Shows `line`; `last` ends the display (a terminal's line is then kept).
    fn draw(self, line: &str, last: bool) {
        let text = match self {
            Display::Terminal => format!("\r{}{}", fit(line, terminal_width()), if last { "\n" } else { "" }),
            Display::Log => format!("{line}\n"),
        };
        // Nothing useful can be done if standard error is closed.
        let _ = io::stderr().lock().write_all(text.as_bytes());
    }
}

/// Runs `work` while `display` (if any) shows `line()`, from another thread.
pub(crate) fn while_running<T>(
    display: Option<Display>,
    line: impl Fn() -> String + Send + Sync,
    work: impl FnOnce() -> T,
) -> Result<T> {
    let Some(display) = display else { return Ok(work()) };
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::scope(|scope| {
        threads::spawn_scoped(scope, "the progress display", move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(display.interval()) {
                display.draw(&line(), false);
            }
            display.draw(&line(), true);
        })?;
        let result = work();
        drop(stop);
        Ok(result)
    })
}

/// `bytes` and the rate they were read at since `started`: `1.5 MiB, 300.0 KiB/s`.
pub(crate) fn bytes_and_rate(bytes: u64, started: Instant) -> String {
    let rate = (bytes as f64 / started.elapsed().as_secs_f64().max(0.001)) as u64;
    format!("{}, {}/s", human_bytes(bytes), human_bytes(rate))
}

/// The columns of the terminal standard error is.
fn terminal_width() -> usize {
    terminal_size::terminal_size_of(io::stderr()).map_or(DEFAULT_WIDTH, |(width, _)| usize::from(width.0))
}

/// `line` cut or padded to one column less than `width`: writing the last column makes some
/// terminals wrap, and the padding erases a longer line drawn before.
fn fit(line: &str, width: usize) -> String {
    let columns = width.saturating_sub(1);
    let cut: String = line.chars().take(columns).collect();
    format!("{cut:<columns$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_fit_one_column_short_of_the_width() {
        assert_eq!(fit("keyhound: commits 3/9", 10), "keyhound:");
        assert_eq!(fit("ab", 5), "ab  ");
        assert_eq!(fit("ab", 0), "");
    }
}
