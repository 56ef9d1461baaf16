//! Teardown: deletes the tables a run created, and nothing else.
//!
//! A table is deleted only when the journal shows the run started its
//! restore AND the table carries the run's `restoreplan:run` tag AND, when
//! the journal recorded the table's DynamoDB `TableId`, it is still that
//! table (not one created later under the same name, whatever its tags say);
//! anything else is refused with the reason.

use crate::cloud::{CloudWrite, ErrorKind, Scope, TableChange};

use super::journal::{Journal, JournalError, Record, RunState};
use super::spec::RUN_TAG;

/// What teardown will do with one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Created by this run: delete it.
    Delete,
    /// Already gone (or deleted by an earlier teardown).
    Gone,
    /// Not provably this run's: never deleted.
    Refuse(String),
}

/// One table teardown considered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Restore index.
    pub index: usize,
    /// Restore id.
    pub id: String,
    /// Where the table is.
    pub scope: Scope,
    /// Table name.
    pub table: String,
    /// What teardown will do.
    pub verdict: Verdict,
}

/// Decides, for every restore the journal shows this run started, whether
/// its table can be deleted (read-only).
pub async fn plan(state: &RunState, cloud: &dyn CloudWrite) -> Vec<Item> {
    let run_id = &state.header.run_id;
    let mut items = Vec::new();
    for (i, (spec, r)) in state
        .header
        .restores
        .iter()
        .zip(&state.restores)
        .enumerate()
    {
        if r.handle.is_none() || r.deleted {
            continue;
        }
        let scope = spec.target.clone();
        let verdict = match cloud.describe_table(&scope, &spec.target_name).await {
            Ok(None) => Verdict::Gone,
            Ok(Some(t)) if replaced(r.table_id.as_deref(), t.table_id.as_deref()) => {
                Verdict::Refuse(format!(
                    "the table was replaced after this run created it (table id {}, the run's was {}), so this run did not create it, whatever its tags say",
                    t.table_id.as_deref().unwrap_or("?"),
                    r.table_id.as_deref().unwrap_or("?"),
                ))
            }
            Ok(Some(t)) => match cloud.table_tags(&scope, &t.arn).await {
                Ok(tags) => match tags.get(RUN_TAG) {
                    Some(v) if v == run_id => Verdict::Delete,
                    Some(v) => {
                        Verdict::Refuse(format!("the table is tagged {RUN_TAG}={v}, not this run"))
                    }
                    None => Verdict::Refuse(format!(
                        "the table has no {RUN_TAG} tag, so this run cannot prove it created it"
                    )),
                },
                Err(e) => Verdict::Refuse(format!("could not read its tags: {e}")),
            },
            Err(e) => Verdict::Refuse(format!("could not describe it: {e}")),
        };
        items.push(Item {
            index: i,
            id: spec.id.clone(),
            scope,
            table: spec.target_name.clone(),
            verdict,
        });
    }
    items
}

/// True when the journal and DynamoDB both know the table's id and they differ.
fn replaced(journaled: Option<&str>, now: Option<&str>) -> bool {
    matches!((journaled, now), (Some(a), Some(b)) if a != b)
}

/// The outcome of deleting one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    /// Restore id.
    pub id: String,
    /// Table name.
    pub table: String,
    /// `Ok` when deleted or already gone, else the error.
    pub result: Result<(), String>,
}

/// Deletes every [`Verdict::Delete`] item, journaling intent and outcome;
/// turns deletion protection off first where it is on.
pub async fn execute(
    items: &[Item],
    cloud: &dyn CloudWrite,
    journal: &Journal,
) -> Result<Vec<Deletion>, JournalError> {
    let mut out = Vec::new();
    for item in items.iter().filter(|i| i.verdict == Verdict::Delete) {
        journal.append(&Record::DeleteIntent {
            index: item.index,
            scope: item.scope.clone(),
            table: item.table.clone(),
            at: crate::clock::now(),
        })?;
        let protected = matches!(
            cloud.describe_table(&item.scope, &item.table).await,
            Ok(Some(t)) if t.deletion_protection
        );
        let mut result = Ok(());
        if protected {
            result = cloud
                .change_table(
                    &item.scope,
                    &item.table,
                    &TableChange::DeletionProtection { enabled: false },
                )
                .await
                .map_err(|e| e.to_string());
        }
        if result.is_ok() {
            result = match cloud.delete_table(&item.scope, &item.table).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e.to_string()),
            };
        }
        if result.is_ok() {
            journal.append(&Record::Deleted {
                index: item.index,
                at: crate::clock::now(),
            })?;
        }
        out.push(Deletion {
            id: item.id.clone(),
            table: item.table.clone(),
            result,
        });
    }
    Ok(out)
}
