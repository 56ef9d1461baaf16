//! The one way commands write to stdout and stderr.
//!
//! A reader that goes away (`restoreplan runs | head -1`) closes the pipe;
//! the next write fails with `EPIPE`. That is a normal end of the output,
//! not an error: the stream is marked closed, later writes to it are
//! dropped, and the command finishes with the exit status its work earned.
//! `println!` would panic instead, so commands print through [`out`],
//! [`err`] and the `outln!`/`errln!` macros, and hand [`Stdout`] to code that
//! wants an [`std::io::Write`].

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

/// Which stream a write goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output: the command's result.
    Stdout,
    /// Standard error: diagnostics, progress and questions.
    Stderr,
}

impl Stream {
    fn closed(self) -> &'static AtomicBool {
        match self {
            Stream::Stdout => &STDOUT_CLOSED,
            Stream::Stderr => &STDERR_CLOSED,
        }
    }

    /// True once a write found the reader gone.
    pub fn is_closed(self) -> bool {
        self.closed().load(Ordering::Relaxed)
    }
}

/// Writes `bytes` to `stream`, treating a closed pipe as the end of output.
/// Any other write error also stops further output on that stream: there is
/// nobody left to tell.
pub fn write(stream: Stream, bytes: &[u8]) {
    if stream.is_closed() {
        return;
    }
    let result = match stream {
        Stream::Stdout => {
            let mut w = io::stdout().lock();
            w.write_all(bytes).and_then(|()| w.flush())
        }
        Stream::Stderr => io::stderr().lock().write_all(bytes),
    };
    if result.is_err() {
        stream.closed().store(true, Ordering::Relaxed);
    }
}

/// Writes text to stdout.
pub fn out(text: &str) {
    write(Stream::Stdout, text.as_bytes());
}

/// Writes text to stderr.
pub fn err(text: &str) {
    write(Stream::Stderr, text.as_bytes());
}

/// `print!` that ends quietly on a closed pipe.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::printer::out(&format!($($arg)*)) };
}

/// `println!` that ends quietly on a closed pipe.
#[macro_export]
macro_rules! outln {
    () => { $crate::cli::printer::out("\n") };
    ($($arg:tt)*) => { $crate::cli::printer::out(&format!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!` that ends quietly on a closed pipe.
#[macro_export]
macro_rules! err {
    ($($arg:tt)*) => { $crate::cli::printer::err(&format!($($arg)*)) };
}

/// `eprintln!` that ends quietly on a closed pipe.
#[macro_export]
macro_rules! errln {
    () => { $crate::cli::printer::err("\n") };
    ($($arg:tt)*) => { $crate::cli::printer::err(&format!("{}\n", format_args!($($arg)*))) };
}

/// Stdout as an [`std::io::Write`] that never fails: for generators that
/// panic or give up on a write error (completion scripts, JSON lines).
#[derive(Debug, Clone, Copy, Default)]
pub struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        write(Stream::Stdout, buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Stderr as an [`std::io::Write`] that never fails: for sinks that write
/// lines while a run works.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        write(Stream::Stderr, buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Appends Markdown to the job summary when running in GitHub Actions
/// (`GITHUB_STEP_SUMMARY` names the file); does nothing elsewhere. A
/// summary that cannot be written is not worth failing the command for.
pub fn step_summary(markdown: &str) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return;
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path);
    match file {
        Ok(mut f) => {
            let mut text = markdown.to_owned();
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push('\n');
            if let Err(e) = f.write_all(text.as_bytes()) {
                err(&format!(
                    "warning: failed to write the step summary {}: {e}\n",
                    std::path::Path::new(&path).display()
                ));
            }
        }
        Err(e) => err(&format!(
            "warning: failed to open the step summary {}: {e}\n",
            std::path::Path::new(&path).display()
        )),
    }
}

/// Text in a fenced block, for a summary of a command whose output is text.
pub fn fenced(title: &str, text: &str) -> String {
    let fence = if text.contains("```") { "~~~~" } else { "```" };
    format!("### {title}\n\n{fence}text\n{}\n{fence}\n", text.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_never_reports_an_error() {
        let mut w = Stdout;
        assert_eq!(w.write(b"").ok(), Some(0));
        assert!(w.flush().is_ok());
    }
}
