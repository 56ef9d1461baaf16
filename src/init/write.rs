//! The plan text `init` writes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::survey::{Method, Request, Survey, SurveyedTable};

/// How to write the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    /// The command line, for the header comment.
    pub command: String,
    /// IAM role AWS Backup assumes (default: the target account's `AWSBackupDefaultServiceRole`).
    pub role: Option<String>,
    /// `select:` blocks instead of one restore per table.
    pub selectors: bool,
}

/// YAML-safe scalar: JSON string quoting is valid YAML.
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// The restore keys a table needs, as `key: value` lines (without indentation).
fn keys(t: &SurveyedTable, vault_per_restore: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    match t.method {
        Method::PointInTime => out.push("recovery_point: { point_in_time: latest }".to_owned()),
        _ => out.push("recovery_point: latest".to_owned()),
    }
    if let (Method::Vault, Some(v)) = (&t.method, vault_per_restore) {
        out.push(format!("target: {{ vault: {} }}", q(v)));
    }
    if t.customer_key {
        out.push(
            "encryption: { type: same-as-source }   # a customer-managed key encrypts the original"
                .to_owned(),
        );
    }
    // Every setting of the original, read live when the plan runs.
    out.push("after_restore: { from_source: all }".to_owned());
    out
}

/// The plan for `survey`, or why none can be written.
pub fn write(req: &Request, survey: &Survey, style: &Style) -> Result<String, String> {
    let (usable, skipped): (Vec<&SurveyedTable>, Vec<&SurveyedTable>) = survey
        .tables
        .iter()
        .partition(|t| !matches!(t.method, Method::None(_)));
    if usable.is_empty() {
        let why = if survey.tables.is_empty() {
            format!(
                "no table of {} matches ({} listed)",
                req.source, survey.listed
            )
        } else {
            let reasons: Vec<String> = skipped
                .iter()
                .take(5)
                .map(|t| match &t.method {
                    Method::None(why) => format!("{}: {why}", t.name),
                    _ => t.name.clone(),
                })
                .collect();
            format!("no selected table can be restored: {}", reasons.join("; "))
        };
        return Err(why);
    }
    let same_place = req.source == req.target;
    let any_vault = usable.iter().any(|t| t.method == Method::Vault);
    let any_backup = usable.iter().any(|t| t.method == Method::Backup);
    // A plan-wide vault would send the DynamoDB-backup restores to it too.
    let plan_vault = any_vault && !any_backup;
    let vault_per_restore = (any_vault && any_backup)
        .then_some(req.vault.as_deref())
        .flatten();
    let t = &req.target;
    let role = style.role.clone().unwrap_or_else(|| {
        format!(
            "arn:aws:iam::{}:role/service-role/AWSBackupDefaultServiceRole",
            t.account
        )
    });
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# yaml-language-server: $schema=https://restoreplan.dev/schemas/restore-plan.schema.json"
    );
    let _ = writeln!(o, "# Written by `{}`", style.command);
    let _ = writeln!(
        o,
        "# from the {} tables of {}: {} selected, {} restorable. Review it, then run",
        survey.listed,
        req.source,
        survey.tables.len(),
        usable.len()
    );
    let _ = writeln!(
        o,
        "# `restoreplan validate --live` and `restoreplan plan` on it."
    );
    let _ = writeln!(
        o,
        "# `after_restore: {{ from_source: all }}` re-applies every setting each original has (read when the plan runs)."
    );
    let _ = writeln!(o, "version: 1");
    let name = format!("restore-{}-{}", req.source.account, req.source.region);
    let _ = writeln!(o, "name: {name}");
    let _ = writeln!(
        o,
        "source: {{ account: \"{}\", region: {} }}",
        req.source.account, req.source.region
    );
    let _ = writeln!(o, "target:");
    let _ = writeln!(o, "  account: \"{}\"", t.account);
    let _ = writeln!(o, "  region: {}", t.region);
    if plan_vault && let Some(v) = &req.vault {
        let _ = writeln!(o, "  vault: {}", q(v));
    }
    if any_vault {
        let _ = writeln!(o, "  role: {}", q(&role));
    }
    let _ = writeln!(o, "defaults:");
    if same_place {
        let _ = writeln!(
            o,
            "  name: \"{{table}}-restored\"   # the originals are here: never restore over them"
        );
    } else {
        let _ = writeln!(o, "  name: \"{{table}}\"");
    }
    let _ = writeln!(o, "  encryption: {{ type: dynamodb-owned }}");
    let _ = writeln!(o, "restores:");
    let _ = writeln!(
        o,
        "  # Order: add the ids a restore must wait for to its `depends_on`, e.g. `depends_on: [accounts]`."
    );
    if style.selectors {
        selectors(&mut o, req, &usable, &skipped, vault_per_restore);
    } else {
        for t in &usable {
            let _ = writeln!(o, "  - table: {}", q(&t.name));
            for k in keys(t, vault_per_restore) {
                let _ = writeln!(o, "    {k}");
            }
            let _ = writeln!(o, "    depends_on: []");
        }
    }
    if !skipped.is_empty() {
        let _ = writeln!(o, "  # Not restorable where the restores run, so left out:");
        for t in &skipped {
            if let Method::None(why) = &t.method {
                let _ = writeln!(o, "  #   {}: {why}", t.name);
            }
        }
    }
    Ok(o)
}

/// One `select:` for the tables that share the most common settings, with
/// the `--match`, `--exclude` and `--tag` criteria (tables that cannot be
/// restored excluded); the other tables get their own restores, which win
/// over the selector's match.
fn selectors(
    o: &mut String,
    req: &Request,
    usable: &[&SurveyedTable],
    skipped: &[&SurveyedTable],
    vault_per_restore: Option<&str>,
) {
    let mut shapes: BTreeMap<Vec<String>, Vec<&SurveyedTable>> = BTreeMap::new();
    for t in usable {
        shapes
            .entry(keys(t, vault_per_restore))
            .or_default()
            .push(t);
    }
    let (common, _) = shapes
        .iter()
        .max_by_key(|(_, ts)| ts.len())
        .map(|(k, ts)| (k.clone(), ts.len()))
        .unwrap_or_default();
    let names: Vec<String> = if req.matches.is_empty() {
        vec![q("*")]
    } else {
        req.matches.iter().map(|m| q(m)).collect()
    };
    let mut exclude: Vec<String> = req.excludes.iter().map(|e| q(e)).collect();
    exclude.extend(skipped.iter().map(|t| q(&t.name)));
    let _ = writeln!(o, "  - select:");
    let _ = writeln!(o, "      names: [{}]", names.join(", "));
    if !req.tags.is_empty() {
        let tags: Vec<String> = req
            .tags
            .iter()
            .map(|(k, v)| format!("{}: {}", q(k), q(v)))
            .collect();
        let _ = writeln!(o, "      tags: {{ {} }}", tags.join(", "));
    }
    if !exclude.is_empty() {
        let _ = writeln!(o, "      exclude: [{}]", exclude.join(", "));
    }
    let _ = writeln!(o, "    id: selected");
    for k in &common {
        let _ = writeln!(o, "    {k}");
    }
    let _ = writeln!(o, "    depends_on: []");
    for (shape, ts) in &shapes {
        if *shape == common {
            continue;
        }
        for t in ts {
            let _ = writeln!(
                o,
                "  - table: {}   # other settings than the selector's",
                q(&t.name)
            );
            for k in shape {
                let _ = writeln!(o, "    {k}");
            }
            let _ = writeln!(o, "    depends_on: []");
        }
    }
}
