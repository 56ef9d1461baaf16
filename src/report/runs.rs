//! Renderers of the runs list (`restoreplan runs`): a table for people and
//! a versioned JSON document.

use std::fmt::Write as _;

use crate::exec::journal::{RunState, Unreadable};
use crate::exec::lock::Holder;

/// The runs as one JSON document (`schema_version` 1), each with the
/// holder of its lock (`locks`, one per run; `null` when none), with the
/// folders that are not readable runs under `unreadable`.
pub fn json(runs: &[RunState], locks: &[Option<Holder>], unreadable: &[Unreadable]) -> String {
    let list: Vec<serde_json::Value> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let lock = locks.get(i).and_then(Option::as_ref).map(|h| {
                serde_json::json!({
                    "holder": format!("pid {} ({})", h.pid, h.user), "host": h.host,
                    "since": h.since, "lease_until": h.lease_until,
                })
            });
            let (c, f, s, o) = r.counts();
            let mut v = serde_json::json!({
                "run_id": r.header.run_id, "plan": r.header.plan, "status": r.status(),
                "started_at": r.header.at, "last_activity": r.last_at,
                "completed": c, "failed": f, "skipped": s, "unfinished": o,
                "restores": r.restores.len(), "lock": lock,
            });
            // A run on AWS Step Functions names its engine and execution.
            if let Some(e) = &r.engine {
                v["engine"] = serde_json::json!(e.engine);
                v["state_machine_arn"] = serde_json::json!(e.state_machine_arn);
                v["execution_arn"] = serde_json::json!(e.execution_arn);
            }
            v
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

/// One line per run under a header line; the last column names the holder
/// of the run's lock (`locks`, one per run), `-` when none.
pub fn table(runs: &[RunState], locks: &[Option<Holder>]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<48}  {:<12}  {:<20}  {:>9}  {:>6}  {:>7}  {:>10}  lock",
        "run", "status", "started (UTC)", "completed", "failed", "skipped", "unfinished"
    );
    for (i, r) in runs.iter().enumerate() {
        let (c, f, sk, o) = r.counts();
        let lock = match locks.get(i).and_then(Option::as_ref) {
            Some(h) => format!(
                "held by pid {} ({}) on {} since {}",
                h.pid,
                h.user,
                h.host,
                h.since.format("%Y-%m-%d %H:%M:%S")
            ),
            None => "-".to_owned(),
        };
        let _ = writeln!(
            s,
            "{:<48}  {:<12}  {:<20}  {:>9}  {:>6}  {:>7}  {:>10}  {lock}",
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
