//! The report of an `apply` run, whichever engine ran it: built from the
//! run's events, kept with the run, written to the CI step summary and
//! printed.

use crate::check::warnings::AcceptedWarning;
use crate::cli::Output;
use crate::cli::printer;
use crate::exec::journal::RunStore;
use crate::exec::render::RunReport;
use crate::exec::render::gantt::{self, Chart};
use crate::plan::model::Plan;

/// What a run's report is made with.
pub(crate) struct Reported<'a> {
    pub(crate) store: &'a RunStore,
    pub(crate) run_id: &'a str,
    pub(crate) plan: &'a Plan,
    pub(crate) accepted_warnings: &'a [AcceptedWarning],
}

/// The run's report from its events: kept with the run (`report.txt`,
/// `report.json`, `gantt.svg`), in the CI step summary, and printed with
/// human output; `next` is a last line saying what to do next.
pub(crate) fn write_report(
    human: bool,
    out: Output,
    p: &Reported<'_>,
    events: &[crate::exec::Event],
    next: Option<String>,
) {
    let mut report = RunReport::from_events(events, p.plan.header().objectives.rto);
    report.accepted_warnings = p.accepted_warnings.to_vec();
    let dir = p.store.run_location(p.run_id);
    let chart = Chart {
        title: format!("restoreplan apply: run {}", p.run_id),
        bars: report.bars(),
        critical: Default::default(),
        objective: report.rto_objective_seconds,
    };
    let text = report.render_text();
    // The journal is the record; these files, kept with the run (in the
    // shared backend too), are conveniences: a failure to write one is a
    // warning.
    for (name, body) in [
        ("report.txt", text.clone().into_bytes()),
        (
            "report.json",
            serde_json::to_string_pretty(&report)
                .unwrap_or_default()
                .into_bytes(),
        ),
        ("gantt.svg", gantt::svg(&chart).into_bytes()),
    ] {
        if let Err(e) = p.store.put_file(p.run_id, name, &body) {
            crate::errln!("warning: could not keep {name} with the run: {e}");
        }
    }
    printer::step_summary(&printer::fenced(
        &format!("restoreplan apply: run {}", p.run_id),
        &text,
    ));
    if human && !out.quiet {
        crate::out!("{text}");
        crate::outln!(
            "\njournal, report and Gantt chart: {}{}",
            dir,
            next.map(|n| format!("\n{n}")).unwrap_or_default()
        );
    }
}
