//! Teardown: deletes the tables a run created, and nothing else.
//!
//! A table is deleted only when the journal shows the run started its
//! restore AND the table carries the run's `restoreplan:run` tag AND, when
//! the journal recorded the table's DynamoDB `TableId`, it is still that
//! table (not one created later under the same name, whatever its tags say);
//! anything else is refused with the reason.
//!
//! Teardown never lowers a protection it did not raise: a table with
//! deletion protection on is deleted only when the journal shows this run
//! turning it on, or when the operator forces it (`--force-unprotect`).
//! A table of the run that cannot be read is an error, never "gone".
//!
//! The recovery points the run's copy steps made are deleted the same way:
//! only those the journal recorded, each proven by the run's own copy job.
//!
//! Teardown is crash-safe: it journals its intent before deleting a table,
//! the deletion, and the removal of what the run created for the table
//! (scalable targets, alarms). A teardown stopped anywhere in between is
//! finished by the next `teardown RUN`, from these records and the
//! after-restore steps the journal shows done: a table the journal shows
//! being deleted that is gone now still has its leftovers removed, and
//! never on a name alone (an alarm only while it carries the run's tag).

use crate::cloud::{CloudWrite, ErrorKind, Scope, TableChange};

use super::journal::{Journal, JournalError, Record, RunState};
use super::spec::{PROMOTED_TAG, RUN_TAG};

/// What teardown will do with one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Created by this run: delete it.
    Delete,
    /// Already gone (or deleted by an earlier teardown).
    Gone,
    /// Not provably this run's, or protected by someone else: never deleted.
    Refuse(String),
    /// The table could not be read (access denied, a failed call): whether
    /// it is there is unknown, so this is an error, not "nothing to do".
    Unseen(String),

    /// Gone, deleted by a teardown of this run that stopped before it
    /// removed what the run created for the table: remove that now.
    Leftovers,
}

/// Whether teardown turns deletion protection off before deleting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unprotect {
    /// Protection is off: nothing to change.
    No,
    /// The journal shows this run turning it on.
    RaisedByRun,
    /// This run did not turn it on; `--force-unprotect` says to turn it off.
    Forced,
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
    /// What teardown changes before deleting.
    pub unprotect: Unprotect,
    /// What the run created for the table that outlives it (scalable
    /// targets with their policies, alarms): removed after the table.
    pub settings: Vec<TableChange>,
}

/// True when the journal shows this run turning deletion protection on for
/// restore `index` (the after-restore step was recorded done).
pub fn raised_protection(state: &RunState, index: usize) -> bool {
    let (Some(spec), Some(r)) = (state.header.restores.get(index), state.restores.get(index))
    else {
        return false;
    };
    spec.changes_for_run(&state.header.plan, &state.header.run_id)
        .iter()
        .enumerate()
        .any(|(step, change)| {
            *change == TableChange::DeletionProtection { enabled: true }
                && r.changes_done.contains(&step)
        })
}

/// The accounts a teardown of `state` acts in: those of the tables the run
/// created and has not deleted. The credentials for each must be of that
/// account before anything is asked of it; otherwise every table would
/// look "gone".
pub fn accounts(state: &RunState) -> Vec<crate::plan::model::AccountId> {
    state
        .header
        .restores
        .iter()
        .zip(&state.restores)
        .enumerate()
        .filter(|(i, (_, r))| {
            r.handle.is_some()
                && (!r.deleted || (!r.settings_removed && !run_settings(state, *i).is_empty()))
        })
        .map(|(_, (spec, _))| spec.target.account.clone())
        .collect()
}

/// What the run created for restore `index`'s table that outlives it
/// (scalable targets, alarms), as the journal shows the steps done.
fn run_settings(state: &RunState, index: usize) -> Vec<TableChange> {
    let (Some(spec), Some(r)) = (state.header.restores.get(index), state.restores.get(index))
    else {
        return Vec::new();
    };
    spec.changes_for_run(&state.header.plan, &state.header.run_id)
        .into_iter()
        .enumerate()
        .filter(|(step, c)| {
            r.changes_done.contains(step)
                && matches!(
                    c,
                    TableChange::ScalableTarget { .. } | TableChange::Alarm { .. }
                )
        })
        .map(|(_, c)| c)
        .collect()
}

/// Decides, for every restore the journal shows this run started, whether
/// its table can be deleted and what must change first (read-only).
/// `force_unprotect` allows turning off deletion protection this run did
/// not turn on.
pub async fn plan(state: &RunState, cloud: &dyn CloudWrite, force_unprotect: bool) -> Vec<Item> {
    let run_id = &state.header.run_id;
    let mut items = Vec::new();
    for (i, (spec, r)) in state
        .header
        .restores
        .iter()
        .zip(&state.restores)
        .enumerate()
    {
        if r.handle.is_none() {
            continue;
        }
        let settings = run_settings(state, i);
        let leftovers = r.delete_intent && !r.settings_removed && !settings.is_empty();
        if r.deleted && !leftovers {
            continue;
        }
        let scope = spec.target.clone();
        if r.deleted || r.delete_intent {
            // A teardown of this run journaled its intent (and maybe the
            // deletion): the table is gone or going, or one of the same
            // name was created since, which is never this run's.
            let verdict = match cloud.describe_table(&scope, &spec.target_name).await {
                Ok(None) if leftovers => Some(Verdict::Leftovers),
                Ok(None) => Some(Verdict::Gone),
                Ok(Some(t)) if t.status == "DELETING" && leftovers => Some(Verdict::Leftovers),
                Ok(Some(t)) if t.status == "DELETING" => Some(Verdict::Gone),
                Ok(Some(t)) if r.deleted => Some(Verdict::Refuse(format!(
                    "this run's teardown deleted the table, and a table of that name exists again (table id {}): what the run created for the deleted table is left for its owner to check",
                    t.table_id.as_deref().unwrap_or("?")
                ))),
                // The intent without the deletion: decided as any table below.
                Ok(Some(_)) => None,
                Err(e) => Some(Verdict::Unseen(format!("could not describe it: {e}"))),
            };
            if let Some(verdict) = verdict {
                items.push(Item {
                    index: i,
                    id: spec.id.clone(),
                    scope,
                    table: spec.target_name.clone(),
                    verdict,
                    unprotect: Unprotect::No,
                    settings,
                });
                continue;
            }
        }
        let mut unprotect = Unprotect::No;
        let promoted = "it was promoted (`restoreplan promote`): it is production now, and teardown never deletes a promoted table";
        let verdict = match cloud.describe_table(&scope, &spec.target_name).await {
            // Promoted tables are refused whatever AWS says of them, and
            // whatever flag is passed.
            _ if r.promoted => Verdict::Refuse(promoted.to_owned()),
            Ok(None) => Verdict::Gone,
            Ok(Some(t)) if replaced(r.table_id.as_deref(), t.table_id.as_deref()) => {
                Verdict::Refuse(format!(
                    "the table was replaced after this run created it (table id {}, the run's was {}), so this run did not create it, whatever its tags say",
                    t.table_id.as_deref().unwrap_or("?"),
                    r.table_id.as_deref().unwrap_or("?"),
                ))
            }
            Ok(Some(t)) => match cloud.table_tags(&scope, &t.arn).await {
                Ok(tags) if tags.contains_key(PROMOTED_TAG) => {
                    Verdict::Refuse(format!("it carries the {PROMOTED_TAG} tag: {promoted}"))
                }
                Ok(tags) => match tags.get(RUN_TAG) {
                    Some(v) if v == run_id && t.deletion_protection => {
                        if raised_protection(state, i) {
                            unprotect = Unprotect::RaisedByRun;
                            Verdict::Delete
                        } else if force_unprotect {
                            unprotect = Unprotect::Forced;
                            Verdict::Delete
                        } else {
                            Verdict::Refuse(
                                "deletion protection is on and this run's journal does not show the run turning it on (after a failover the table may be in use); pass --force-unprotect to turn it off and delete the table".to_owned(),
                            )
                        }
                    }
                    Some(v) if v == run_id => Verdict::Delete,
                    Some(v) => {
                        Verdict::Refuse(format!("the table is tagged {RUN_TAG}={v}, not this run"))
                    }
                    None => Verdict::Refuse(format!(
                        "the table has no {RUN_TAG} tag, so this run cannot prove it created it"
                    )),
                },
                Err(e) => Verdict::Unseen(format!("could not read its tags: {e}")),
            },
            Err(e) => Verdict::Unseen(format!("could not describe it: {e}")),
        };
        items.push(Item {
            index: i,
            id: spec.id.clone(),
            scope,
            table: spec.target_name.clone(),
            verdict,
            unprotect,
            settings,
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
    /// What the run created for the table and teardown removed after it
    /// (`DeregisterScalableTarget resource dimension`, `DeleteAlarms name`).
    pub removed: Vec<String>,
    /// True when the table was deleted by an earlier, interrupted teardown
    /// and this one only removed what was left for it.
    pub leftovers: bool,
}

/// Deletes every [`Verdict::Delete`] item, journaling intent and outcome;
/// turns deletion protection off first where the item says so. A table
/// whose protection was turned on since [`plan`] looked is not deleted.
pub async fn execute(
    items: &[Item],
    cloud: &dyn CloudWrite,
    journal: &Journal,
) -> Result<Vec<Deletion>, JournalError> {
    let mut out = Vec::new();
    for item in items.iter().filter(|i| i.verdict == Verdict::Leftovers) {
        // The deletion may not have been journaled before the stop.
        journal.append(&Record::Deleted {
            index: item.index,
            at: crate::clock::now(),
        })?;
        let mut removed = Vec::new();
        let result = remove_settings(item, cloud, &mut removed).await;
        if result.is_ok() {
            journal.append(&Record::SettingsRemoved {
                index: item.index,
                at: crate::clock::now(),
            })?;
        }
        out.push(Deletion {
            id: item.id.clone(),
            table: item.table.clone(),
            result,
            removed,
            leftovers: true,
        });
    }
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
        if protected && item.unprotect == Unprotect::No {
            result = Err(
                "deletion protection was turned on after teardown checked the table; it was left as it is"
                    .to_owned(),
            );
        } else if protected {
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
        let mut removed = Vec::new();
        if result.is_ok() {
            journal.append(&Record::Deleted {
                index: item.index,
                at: crate::clock::now(),
            })?;
            match remove_settings(item, cloud, &mut removed).await {
                Ok(()) => journal.append(&Record::SettingsRemoved {
                    index: item.index,
                    at: crate::clock::now(),
                })?,
                Err(e) => result = Err(e),
            }
        }
        out.push(Deletion {
            id: item.id.clone(),
            table: item.table.clone(),
            result,
            removed,
            leftovers: false,
        });
    }
    Ok(out)
}

/// One recovery point this run copied (`copy:`), as teardown considered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyItem {
    /// Restore index.
    pub index: usize,
    /// Restore id.
    pub id: String,
    /// Where the copy is (the destination vault's account and Region).
    pub scope: Scope,
    /// The destination vault.
    pub vault: String,
    /// The copy's recovery point ARN.
    pub arn: String,
    /// What teardown will do.
    pub verdict: Verdict,
}

/// Account, Region and name of a vault ARN
/// (`arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME`).
fn vault_of(arn: &str) -> Option<(Scope, String)> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    match parts.as_slice() {
        ["arn", _, "backup", region, account, "backup-vault", name] => Some((
            Scope {
                account: crate::plan::model::AccountId::parse(account)?,
                region: crate::plan::model::Region::parse(region)?,
            },
            (*name).to_owned(),
        )),
        _ => None,
    }
}

/// The accounts a teardown of the run's copies acts in: where each copy job
/// ran (the source, to read the job) and where its copy is.
pub fn copy_accounts(state: &RunState) -> Vec<crate::plan::model::AccountId> {
    let mut out = Vec::new();
    for (spec, r) in state.header.restores.iter().zip(&state.restores) {
        let Some(copy) = &spec.copy else { continue };
        if r.copies
            .iter()
            .all(|(_, arn)| r.copies_deleted.contains(arn))
        {
            continue;
        }
        out.push(copy.scope.account.clone());
        if let Some((scope, _)) = vault_of(&copy.request.destination_backup_vault_arn) {
            out.push(scope.account);
        }
    }
    out
}

/// Decides, for every recovery point the journal shows this run's copy
/// jobs made, whether teardown deletes it (read-only). A copy is this run's
/// when the copy job the run started and journaled (`DescribeCopyJob` in
/// the source account) names it as its destination in the restore's target
/// vault; the recovery point must still be there and be of the original
/// table. Nothing else in any vault is ever considered.
pub async fn plan_copies(state: &RunState, cloud: &dyn CloudWrite) -> Vec<CopyItem> {
    let mut items = Vec::new();
    for (i, (spec, r)) in state
        .header
        .restores
        .iter()
        .zip(&state.restores)
        .enumerate()
    {
        let Some(copy) = &spec.copy else { continue };
        for (job_id, arn) in &r.copies {
            if r.copies_deleted.contains(arn) {
                continue;
            }
            let Some((scope, vault)) = vault_of(&copy.request.destination_backup_vault_arn) else {
                continue;
            };
            let verdict = match cloud.describe_copy_job(&copy.scope, job_id).await {
                Ok(job) if job.destination_recovery_point_arn.as_deref() != Some(arn) => {
                    Verdict::Refuse(format!(
                        "copy job {job_id} of this run made {}, not this recovery point",
                        job.destination_recovery_point_arn
                            .as_deref()
                            .unwrap_or("nothing")
                    ))
                }
                Ok(job)
                    if job
                        .destination_vault_arn
                        .as_deref()
                        .is_some_and(|v| v != copy.request.destination_backup_vault_arn) =>
                {
                    Verdict::Refuse(format!(
                        "copy job {job_id} copied into {}, not the run's vault",
                        job.destination_vault_arn.as_deref().unwrap_or("?")
                    ))
                }
                Ok(_) => match cloud.describe_recovery_point(&scope, &vault, arn).await {
                    Ok(_) => Verdict::Delete,
                    Err(e) if e.kind == ErrorKind::NotFound => Verdict::Gone,
                    Err(e) => Verdict::Unseen(format!("could not describe it: {e}")),
                },
                Err(e) if e.kind == ErrorKind::NotFound => Verdict::Refuse(format!(
                    "AWS Backup does not know copy job {job_id} any more, so this run cannot prove it made this recovery point"
                )),
                Err(e) => Verdict::Unseen(format!("could not describe copy job {job_id}: {e}")),
            };
            items.push(CopyItem {
                index: i,
                id: spec.id.clone(),
                scope,
                vault,
                arn: arn.clone(),
                verdict,
            });
        }
    }
    items
}

/// Deletes every [`Verdict::Delete`] copy (`DeleteRecoveryPoint`),
/// journaling each one deleted (or already gone).
pub async fn execute_copies(
    items: &[CopyItem],
    cloud: &dyn CloudWrite,
    journal: &Journal,
) -> Result<Vec<Deletion>, JournalError> {
    let mut out = Vec::new();
    for item in items.iter().filter(|i| i.verdict == Verdict::Delete) {
        let result = match cloud
            .delete_recovery_point(&item.scope, &item.vault, &item.arn)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.to_string()),
        };
        if result.is_ok() {
            journal.append(&Record::CopyDeleted {
                index: item.index,
                recovery_point_arn: item.arn.clone(),
                at: crate::clock::now(),
            })?;
        }
        out.push(Deletion {
            id: item.id.clone(),
            table: item.arn.clone(),
            result,
            removed: Vec::new(),
            leftovers: false,
        });
    }
    Ok(out)
}

/// Removes what the run created for a deleted table and what outlives it:
/// its scalable targets (their policies go with them) and its alarms, an
/// alarm only while it still carries the run's tag (one replaced since is
/// someone else's and stays).
async fn remove_settings(
    item: &Item,
    cloud: &dyn CloudWrite,
    removed: &mut Vec<String>,
) -> Result<(), String> {
    for change in &item.settings {
        let what = match change {
            TableChange::ScalableTarget { target } => {
                format!(
                    "DeregisterScalableTarget {} {}",
                    target.resource_id, target.dimension
                )
            }
            TableChange::Alarm { alarm } => {
                let run = alarm.tags.get(RUN_TAG);
                match cloud.alarm_tags(&item.scope, &alarm.name).await {
                    Ok(None) => continue,
                    Ok(Some(tags)) if run.is_some() && tags.get(RUN_TAG) == run => {}
                    Ok(Some(_)) => continue,
                    Err(e) => return Err(format!("alarm `{}`: {e}", alarm.name)),
                }
                format!("DeleteAlarms {}", alarm.name)
            }
            _ => continue,
        };
        match cloud.remove_setting(&item.scope, change).await {
            Ok(()) => removed.push(what),
            Err(e) if e.kind == ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{what}: {e}")),
        }
    }
    Ok(())
}
