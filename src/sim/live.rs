//! Table sizes from AWS for `simulate --live` (read-only): the size of the
//! recovery point each restore would use, or of its original table.

use crate::check::live::{self, LiveOptions};
use crate::cloud::CloudRead;
use crate::plan::model::Plan;
use crate::sim::offline::Sizes;

/// Sizes read through the live checks of `plan`.
#[derive(Debug, Clone, Default)]
pub struct LiveSizes {
    /// `given` with every size AWS knows added (entries of `given` win).
    pub sizes: Sizes,
    /// Restores whose size is known neither from AWS nor from `given`: the
    /// model's default size is used for them.
    pub missing: Vec<String>,
}

/// Adds to `given` the size of what each restore of `plan` would restore.
/// An account whose identity cannot be confirmed stops it (sizes read with
/// the wrong identity, or none, would be guesses): the error names each.
pub async fn sizes(
    plan: &Plan,
    cloud: &dyn CloudRead,
    mut given: Sizes,
) -> Result<LiveSizes, String> {
    let report = live::check(plan, cloud, &LiveOptions::default()).await;
    let unusable: Vec<String> = report
        .identities
        .iter()
        .filter_map(|i| {
            let e = i.identity.as_ref().err()?;
            Some(format!("account {}: {e}", i.account))
        })
        .collect();
    if !unusable.is_empty() {
        return Err(format!(
            "{}
no size was read; fix the credentials, or simulate without --live",
            unusable.join("\n")
        ));
    }
    let mut missing = Vec::new();
    for r in &report.resolved {
        let size = r
            .recovery_point
            .as_ref()
            .and_then(|rp| rp.size_bytes)
            .or_else(|| r.source_table.as_ref().and_then(|t| t.size_bytes));
        match size {
            Some(bytes) => {
                given.0.entry(r.id.clone()).or_insert(bytes);
            }
            None if !given.0.contains_key(&r.id) => missing.push(r.id.clone()),
            None => {}
        }
    }
    Ok(LiveSizes {
        sizes: given,
        missing,
    })
}
