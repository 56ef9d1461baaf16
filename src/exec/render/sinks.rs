//! The sinks an `apply` run feeds: every event is kept for the final
//! report, and one live view shows the run as it goes.

use std::io::Write;

use crate::exec::events::{CollectingSink, Event, EventSink};
use crate::exec::render::jsonl::JsonLines;
use crate::exec::render::lines::Lines;
use crate::exec::render::progress::Progress;

/// What the operator sees while a run works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveView {
    /// Nothing (`--quiet`).
    Silent,
    /// Progress bars (a terminal).
    Progress,
    /// One line per finished restore on stderr (no terminal, or `--no-progress`).
    Lines,
    /// One JSON event per line on stdout (`--format json`).
    JsonLines,
}

impl LiveView {
    /// The view for human output (`json` false) or JSON lines, given
    /// `--quiet`, `--no-progress` and whether stderr is a terminal.
    pub fn choose(json: bool, quiet: bool, no_progress: bool, terminal: bool) -> Self {
        match (json, quiet, !no_progress && terminal) {
            (true, _, _) => LiveView::JsonLines,
            (false, true, _) => LiveView::Silent,
            (false, false, true) => LiveView::Progress,
            (false, false, false) => LiveView::Lines,
        }
    }
}

/// Keeps every event and shows it in the chosen [`LiveView`].
pub struct RunSinks {
    collect: CollectingSink,
    live: Option<Box<dyn EventSink>>,
}

impl RunSinks {
    /// JSON lines go to `stdout`, lines to `stderr`; progress bars draw on
    /// the terminal themselves.
    pub fn new(
        view: LiveView,
        stdout: impl Write + Send + 'static,
        stderr: impl Write + Send + 'static,
    ) -> Self {
        let live: Option<Box<dyn EventSink>> = match view {
            LiveView::Silent => None,
            LiveView::Progress => Some(Box::new(Progress::new())),
            LiveView::Lines => Some(Box::new(Lines::new(stderr))),
            LiveView::JsonLines => Some(Box::new(JsonLines::new(stdout))),
        };
        Self {
            collect: CollectingSink::new(),
            live,
        }
    }

    /// Takes the events received so far (for the final report).
    pub fn take(&self) -> Vec<Event> {
        self.collect.take()
    }
}

impl EventSink for RunSinks {
    fn emit(&self, event: Event) {
        match &self.live {
            Some(live) => {
                self.collect.emit(event.clone());
                live.emit(event);
            }
            None => self.collect.emit(event),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_wins_then_quiet_then_the_terminal() {
        assert_eq!(
            LiveView::choose(true, true, true, false),
            LiveView::JsonLines
        );
        assert_eq!(LiveView::choose(false, true, false, true), LiveView::Silent);
        assert_eq!(
            LiveView::choose(false, false, false, true),
            LiveView::Progress
        );
        assert_eq!(LiveView::choose(false, false, true, true), LiveView::Lines);
        assert_eq!(
            LiveView::choose(false, false, false, false),
            LiveView::Lines
        );
    }
}
