//! Renderers of the runs list (`restoreplan runs`): a table for people and
//! a versioned JSON document.

use std::fmt::Write as _;

use crate::exec::journal::{RunState, Unreadable};

/// The runs as one JSON document (`schema_version` 1), with the folders
/// that are not readable runs under `unreadable`.
pub fn json(runs: &[RunState], unreadable: &[Unreadable]) -> String {
    let list: Vec<serde_json::Value> = runs
        .iter()
        .map(|r| {
            let (c, f, s, o) = r.counts();
            serde_json::json!({
                "run_id": r.header.run_id, "plan": r.header.plan, "status": r.status(),
                "started_at": r.header.at, "last_activity": r.last_at,
                "completed": c, "failed": f, "skipped": s, "unfinished": o,
                "restores": r.restores.len(),
            })
        })
        .collect();
    let bad: Vec<serde_json::Value> = unreadable
        .iter()
        .map(|u| serde_json::json!({"path": u.path.display().to_string(), "error": u.reason}))
        .collect();
    format!(
        "{:#}\n",
        serde_json::json!({"schema_version": 1, "runs": list, "unreadable": bad})
    )
}

/// One line per run under a header line.
pub fn table(runs: &[RunState]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<48}  {:<12}  {:<20}  {:>9}  {:>6}  {:>7}  {:>10}",
        "run", "status", "started (UTC)", "completed", "failed", "skipped", "unfinished"
    );
    for r in runs {
        let (c, f, sk, o) = r.counts();
        let _ = writeln!(
            s,
            "{:<48}  {:<12}  {:<20}  {:>9}  {:>6}  {:>7}  {:>10}",
            r.header.run_id,
            r.status(),
            r.header.at.format("%Y-%m-%d %H:%M:%S"),
            c,
            f,
            sk,
            o
        );
    }
    s
}
