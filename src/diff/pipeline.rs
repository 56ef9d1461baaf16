//! The review pipelines `plan` and `audit` run: resolve a sealed plan
//! against a read-only cloud, read the source tables' settings, and build
//! the dry run (and its audit checklist). Read-only by construction: the
//! cloud is a [`CloudRead`], so nothing can be changed from here.

use chrono::{DateTime, Utc};

use crate::check::live::{self, LiveOptions};
use crate::cloud::CloudRead;
use crate::diff::audit::AuditReport;
use crate::diff::source::read_source_settings;
use crate::diff::{DryRun, build};
use crate::plan::model::Plan;

/// Resolves `plan` against `cloud` and builds its dry run: the model
/// `restoreplan plan` renders and `apply --plan-file` compares against.
pub async fn dry_run(plan: &Plan, cloud: &dyn CloudRead, opts: &LiveOptions) -> DryRun {
    let report = live::check(plan, cloud, opts).await;
    let sources = read_source_settings(plan, cloud).await;
    build(plan, &report, &sources)
}

/// The dry run of `plan` as an audit record generated at `at`: every check
/// with its evidence (`restoreplan audit`).
pub async fn audit(
    plan: &Plan,
    cloud: &dyn CloudRead,
    opts: &LiveOptions,
    at: DateTime<Utc>,
) -> AuditReport {
    crate::diff::audit::audit(&dry_run(plan, cloud, opts).await, at)
}
