//! JSON output: the models as they are, with a `schema_version`, and the
//! JSON Schema of the dry-run output generated from the model types.

use crate::diff::DryRun;
use crate::diff::audit::AuditReport;
use crate::diff::plans::PlanDiff;

/// Path of the committed schema, relative to the repository root.
pub const PLAN_OUTPUT_SCHEMA_PATH: &str = "schemas/plan-output.schema.json";

fn pretty<T: serde::Serialize>(v: &T) -> String {
    // The models are plain data with string keys; serialising cannot fail.
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// `plan --format json` and the saved plan file of `plan --out`.
pub fn dry_run(d: &DryRun) -> String {
    pretty(d)
}

/// `diff --format json`.
pub fn plan_diff(d: &PlanDiff) -> String {
    pretty(d)
}

/// `audit --out report.json`.
pub fn audit(a: &AuditReport) -> String {
    pretty(a)
}

/// The JSON Schema of [`dry_run`]'s output, as committed in
/// [`PLAN_OUTPUT_SCHEMA_PATH`].
pub fn plan_output_schema() -> String {
    let mut schema = schemars::schema_for!(DryRun);
    schema.insert(
        "$id".to_owned(),
        "https://restoreplan.dev/schemas/plan-output.schema.json".into(),
    );
    schema.insert(
        "title".to_owned(),
        "restoreplan dry-run plan (plan --format json, plan --out)".into(),
    );
    pretty(&schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed schema must match the Rust types. Run with
    /// `RESTOREPLAN_BLESS=1` to rewrite it after changing the model.
    #[test]
    fn committed_plan_output_schema_is_current() {
        let path = std::path::Path::new(crate::REPO_ROOT).join(PLAN_OUTPUT_SCHEMA_PATH);
        let want = plan_output_schema();
        if std::env::var_os("RESTOREPLAN_BLESS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap_or(std::path::Path::new(".")))
                .unwrap_or_else(|e| panic!("create schemas/: {e}"));
            std::fs::write(&path, &want).unwrap_or_else(|e| panic!("write {path:?}: {e}"));
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{PLAN_OUTPUT_SCHEMA_PATH} is stale; regenerate it with `RESTOREPLAN_BLESS=1 cargo test --lib committed_plan_output_schema_is_current`"
        );
    }
}
