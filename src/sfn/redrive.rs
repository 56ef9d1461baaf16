//! Putting a run's failed and skipped restores back before its execution
//! is redriven (docs/step-functions.md, "Redrive").
//!
//! A lane records a failed restore as `FAILED` and its dependents as
//! `SKIPPED`, and the execution fails at its last state while `#run`
//! counts failures. `RedriveExecution` goes on from that state, so before
//! it `apply --resume` writes the run's items back to what a fresh run
//! would hold for the restores not done: a failed restore becomes `READY`
//! (or `WAITING`) as its next attempt, with the next attempt's idempotency
//! token (the local engine's `--retry-failed` token; the failed attempt's
//! token would give back the failed job), a skipped one `WAITING` or
//! `READY` with the same token (it never started a job), every waiting
//! restore's `deps` counts the dependencies not done, `#run` counts them in
//! `remaining` with `failed` at 0 and `stopped` off. A `DONE` restore is
//! never touched: no lane claims it again, so no second job is started for
//! it. A `RUNNING` restore (an execution aborted or timed out while a lane
//! ran it) is left to its lane, which the redrive resumes.
//!
//! Every write is conditional on the state it read, and the execution does
//! not run until `RedriveExecution`: a process stopped in between leaves
//! the execution failed, and the next `--resume` does the same again.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

use super::{retried, run_scope};
use crate::aws::{AwsCloud, sdk_error};
use crate::exec::journal::EngineRun;
use crate::exec::spec::{RestoreSpec, attempt_token, copy_token};
use crate::export::RUN_ITEM;

/// A restore put back: its plan index and the attempt it runs as.
#[derive(Debug, Clone, PartialEq)]
pub struct PutBack {
    /// Plan index.
    pub index: usize,
    /// Attempt number (a failed restore's next one; a skipped one's own).
    pub attempt: u32,
    /// It had failed (not skipped).
    pub failed: bool,
}

type Raw = HashMap<String, AttributeValue>;

fn s<'a>(item: &'a Raw, key: &str) -> Option<&'a str> {
    item.get(key)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

fn n(item: &Raw, key: &str) -> Option<i64> {
    item.get(key)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

/// The state each restore item should hold again, from the items as read.
#[derive(Debug, Clone, PartialEq)]
struct Reset {
    id: String,
    from: String,
    to: &'static str,
    deps: usize,
    attempt: u32,
    spec: String,
}

/// What to write: each item not done nor running, and `remaining`.
fn plan_resets(run_id: &str, items: &[Raw]) -> (Vec<Reset>, usize) {
    let done = |it: &Raw| s(it, "st") == Some("DONE");
    let mut deps: HashMap<&str, usize> = HashMap::new();
    for it in items.iter().filter(|it| !done(it)) {
        let spec: Value = s(it, "spec")
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or(Value::Null);
        for d in spec["dependents"].as_array().into_iter().flatten() {
            if let Some(d) = d.as_str()
                && let Some(name) = items.iter().filter_map(|x| s(x, "id")).find(|x| *x == d)
            {
                *deps.entry(name).or_default() += 1;
            }
        }
    }
    let remaining = items.iter().filter(|it| !done(it)).count();
    let mut out = Vec::new();
    for it in items {
        let (Some(id), Some(st)) = (s(it, "id"), s(it, "st")) else {
            continue;
        };
        if !matches!(st, "FAILED" | "SKIPPED" | "WAITING" | "READY") {
            continue;
        }
        let left = deps.get(id).copied().unwrap_or(0);
        let mut attempt = n(it, "attempt").unwrap_or(0).max(0) as u32;
        let mut spec = s(it, "spec").unwrap_or_default().to_owned();
        if st == "FAILED" {
            let old = attempt_token(run_id, id, attempt);
            attempt += 1;
            spec = spec.replace(&old, &attempt_token(run_id, id, attempt));
            // Its copy step too, as the local engine's retry copies again:
            // the failed attempt's token would return the failed copy job.
            spec = spec.replace(
                &copy_token(run_id, id, attempt - 1),
                &copy_token(run_id, id, attempt),
            );
        }
        out.push(Reset {
            id: id.to_owned(),
            from: st.to_owned(),
            to: if left == 0 { "READY" } else { "WAITING" },
            deps: left,
            attempt,
            spec,
        });
    }
    (out, remaining)
}

/// Puts the run's failed and skipped restores back (see the module's
/// documentation); returns them, in plan order.
pub async fn reopen(
    cloud: &AwsCloud,
    run: &EngineRun,
    run_id: &str,
    specs: &[RestoreSpec],
    ts: f64,
) -> Result<Vec<PutBack>, String> {
    let ddb = cloud
        .dynamodb_client(&run_scope(run)?)
        .await
        .map_err(|e| e.to_string())?;
    let mut items: Vec<Raw> = Vec::new();
    let mut start: Option<Raw> = None;
    loop {
        let page = retried(ts, || async {
            ddb.query()
                .table_name(&run.table)
                .key_condition_expression("#r = :r")
                .expression_attribute_names("#r", "run")
                .expression_attribute_values(":r", AttributeValue::S(run_id.to_owned()))
                .consistent_read(true)
                .set_exclusive_start_key(start.clone())
                .send()
                .await
                .map_err(|e| sdk_error("Query", e))
        })
        .await
        .map_err(|e| format!("the run's items in `{}`: {e}", run.table))?;
        items.extend(
            page.items()
                .iter()
                .filter(|i| s(i, "id") != Some(RUN_ITEM))
                .cloned(),
        );
        match page.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => break,
        }
    }
    let (resets, remaining) = plan_resets(run_id, &items);
    let key = |id: &str| {
        HashMap::from([
            ("run".to_owned(), AttributeValue::S(run_id.to_owned())),
            ("id".to_owned(), AttributeValue::S(id.to_owned())),
        ])
    };
    let mut put_back = Vec::new();
    for r in &resets {
        let ready = r.to == "READY";
        let expr = if ready {
            "SET st = :st, deps = :deps, doomed = :f, attempt = :a, spec = :spec, rk = rkv REMOVE failure, t0, t1, job, cjob, cpoint, ct"
        } else {
            "SET st = :st, deps = :deps, doomed = :f, attempt = :a, spec = :spec REMOVE failure, t0, t1, job, rk, cjob, cpoint, ct"
        };
        retried(ts, || async {
            ddb.update_item()
                .table_name(&run.table)
                .set_key(Some(key(&r.id)))
                .update_expression(expr)
                .condition_expression("st = :was")
                .expression_attribute_values(":st", AttributeValue::S(r.to.to_owned()))
                .expression_attribute_values(":was", AttributeValue::S(r.from.clone()))
                .expression_attribute_values(":deps", AttributeValue::N(r.deps.to_string()))
                .expression_attribute_values(":f", AttributeValue::Bool(false))
                .expression_attribute_values(":a", AttributeValue::N(r.attempt.to_string()))
                .expression_attribute_values(":spec", AttributeValue::S(r.spec.clone()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("UpdateItem", e))
        })
        .await
        .map_err(|e| format!("restore `{}` in `{}`: {e}", r.id, run.table))?;
        if matches!(r.from.as_str(), "FAILED" | "SKIPPED")
            && let Some(index) = specs.iter().position(|s| s.id == r.id)
        {
            put_back.push(PutBack {
                index,
                attempt: r.attempt,
                failed: r.from == "FAILED",
            });
        }
    }
    retried(ts, || async {
        ddb.update_item()
            .table_name(&run.table)
            .set_key(Some(key(RUN_ITEM)))
            .update_expression("SET remaining = :n, failed = :zero, stopped = :f")
            .expression_attribute_values(":n", AttributeValue::N(remaining.to_string()))
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .expression_attribute_values(":f", AttributeValue::Bool(false))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("UpdateItem", e))
    })
    .await
    .map_err(|e| format!("the run's item in `{}`: {e}", run.table))?;
    put_back.sort_by_key(|p| p.index);
    Ok(put_back)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, st: &str, dependents: &[&str], token: &str) -> Raw {
        let spec = serde_json::json!({
            "dependents": dependents,
            "start": {"params": {"IdempotencyToken": token}}
        });
        HashMap::from([
            ("id".to_owned(), AttributeValue::S(id.into())),
            ("st".to_owned(), AttributeValue::S(st.into())),
            ("spec".to_owned(), AttributeValue::S(spec.to_string())),
        ])
    }

    #[test]
    fn failed_and_skipped_restores_go_back_and_done_ones_stay() {
        // a (done) -> b (failed) -> c (skipped) -> d (skipped); e (done).
        let run = "run-1";
        let t = |id: &str| attempt_token(run, id, 0);
        let items = vec![
            item("a", "DONE", &["b"], &t("a")),
            item("b", "FAILED", &["c"], &t("b")),
            item("c", "SKIPPED", &["d"], &t("c")),
            item("d", "SKIPPED", &[], &t("d")),
            item("e", "DONE", &[], &t("e")),
        ];
        let (resets, remaining) = plan_resets(run, &items);
        assert_eq!(remaining, 3);
        let by: HashMap<&str, &Reset> = resets.iter().map(|r| (r.id.as_str(), r)).collect();
        assert_eq!(by.len(), 3, "done restores are not written: {resets:?}");
        // b's dependency is done: ready, as its next attempt, with that
        // attempt's token in place of the failed one's.
        assert_eq!((by["b"].to, by["b"].deps, by["b"].attempt), ("READY", 0, 1));
        assert!(by["b"].spec.contains(&attempt_token(run, "b", 1)));
        assert!(!by["b"].spec.contains(&t("b")));
        // c waits for b, d for c; both keep their first token.
        assert_eq!(
            (by["c"].to, by["c"].deps, by["c"].attempt),
            ("WAITING", 1, 0)
        );
        assert_eq!((by["d"].to, by["d"].deps), ("WAITING", 1));
        assert!(by["c"].spec.contains(&t("c")));
    }

    #[test]
    fn a_second_failure_takes_the_attempt_after() {
        let run = "run-2";
        let mut b = item("b", "FAILED", &[], &attempt_token(run, "b", 1));
        b.insert("attempt".into(), AttributeValue::N("1".into()));
        let (resets, remaining) = plan_resets(run, &[b]);
        assert_eq!(remaining, 1);
        assert_eq!(resets[0].attempt, 2);
        assert!(resets[0].spec.contains(&attempt_token(run, "b", 2)));
    }

    #[test]
    fn a_failed_restore_with_a_copy_step_copies_again_as_its_next_attempt() {
        let run = "run-4";
        let mut b = item("b", "FAILED", &[], &attempt_token(run, "b", 0));
        let spec = serde_json::json!({
            "dependents": [],
            "copy": {"params": {"IdempotencyToken": copy_token(run, "b", 0)}},
            "start": {"params": {"IdempotencyToken": attempt_token(run, "b", 0)}}
        });
        b.insert("spec".into(), AttributeValue::S(spec.to_string()));
        let (resets, _) = plan_resets(run, &[b]);
        assert!(resets[0].spec.contains(&copy_token(run, "b", 1)));
        assert!(!resets[0].spec.contains(&copy_token(run, "b", 0)));
        assert!(resets[0].spec.contains(&attempt_token(run, "b", 1)));
    }

    #[test]
    fn running_restores_are_left_to_their_lane() {
        let run = "run-3";
        let items = vec![
            item("a", "RUNNING", &["b"], "x"),
            item("b", "WAITING", &[], "y"),
        ];
        let (resets, remaining) = plan_resets(run, &items);
        assert_eq!(remaining, 2);
        assert_eq!(resets.len(), 1);
        assert_eq!(
            (resets[0].id.as_str(), resets[0].to, resets[0].deps),
            ("b", "WAITING", 1)
        );
    }
}
