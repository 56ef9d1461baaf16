//! `execution.engine` and `execution.step_functions`: which engine runs the
//! plan, and for AWS Step Functions the role its state machine runs as and
//! the machine's name.
//!
//! The raw types mirror the YAML; [`Engine`] is the resolved form;
//! [`rules`] checks the values offline with the YAML position of each.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::rules as codes;
use super::tree::{Node, Segment, Value};
use crate::diag::Finding;

/// `execution.engine`, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(rename = "Engine")]
pub enum RawEngine {
    /// This process runs the plan (default).
    Local,
    /// An AWS Step Functions state machine runs the plan (docs/step-functions.md).
    StepFunctions,
}

/// `execution.step_functions`, as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "StepFunctions")]
pub struct RawStepFunctions {
    /// The ARN of the IAM role the state machine runs as (required with
    /// `engine: step-functions`).
    pub role: Option<String>,
    /// The state machine's name; default `restoreplan-{plan}`.
    pub name: Option<String>,
}

/// The engine that runs a plan, resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "engine", rename_all = "kebab-case")]
pub enum Engine {
    /// This process.
    #[default]
    Local,
    /// An AWS Step Functions state machine.
    StepFunctions {
        /// The role ARN the state machine runs as; `None` only for a plan
        /// whose findings already say it is missing.
        role: Option<String>,
        /// The state machine's name.
        name: String,
    },
}

/// The state machine name of plan `plan` when the plan names none.
pub fn default_name(plan: &str) -> String {
    format!("restoreplan-{plan}")
}

/// True for a valid state machine name: 1–80 of `[A-Za-z0-9_-]`.
pub fn valid_name(s: &str) -> bool {
    (1..=80).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// True for an IAM role ARN: `arn:PARTITION:iam::ACCOUNT:role/NAME`.
pub fn valid_role_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "iam", "", account, rest]
        if partition.starts_with("aws")
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && rest.strip_prefix("role/").is_some_and(|n| !n.is_empty() && !n.ends_with('/')))
}

/// Resolves `execution.engine` and `execution.step_functions` of plan
/// `plan` (their findings come from [`rules`]).
pub fn resolve(
    plan: &str,
    engine: Option<RawEngine>,
    step_functions: Option<&RawStepFunctions>,
) -> Engine {
    match engine {
        None | Some(RawEngine::Local) => Engine::Local,
        Some(RawEngine::StepFunctions) => Engine::StepFunctions {
            role: step_functions.and_then(|s| s.role.clone()),
            name: step_functions
                .and_then(|s| s.name.clone())
                .unwrap_or_else(|| default_name(plan)),
        },
    }
}

fn text(node: Option<&Node>) -> Option<&str> {
    match node.map(|n| &n.value) {
        Some(Value::Str { text, .. }) => Some(text),
        _ => None,
    }
}

/// The engine rules: `engine: step-functions` needs
/// `execution.step_functions.role`, a well-formed role ARN and machine
/// name, and no `verify.command` (only the local engine runs one).
pub fn rules(root: &Node, findings: &mut Vec<Finding>) {
    let execution = root.get("execution");
    let engine = execution.and_then(|e| e.get("engine"));
    let sfn = execution.and_then(|e| e.get("step_functions"));
    if let Some(role) = sfn.and_then(|s| s.get("role"))
        && let Some(arn) = text(Some(role))
        && !valid_role_arn(arn)
    {
        findings.push(
            Finding::error(
                codes::STEP_FUNCTIONS_ROLE,
                format!("`execution.step_functions.role` `{arn}` is not an IAM role ARN"),
            )
            .at(Some(role.span))
            .label("not a role ARN")
            .help("write the role's ARN, e.g. `arn:aws:iam::444455556666:role/restoreplan-state-machine`"),
        );
    }
    if let Some(name) = sfn.and_then(|s| s.get("name"))
        && let Some(n) = text(Some(name))
        && !valid_name(n)
    {
        findings.push(
            Finding::error(
                codes::STEP_FUNCTIONS_NAME,
                format!("`execution.step_functions.name` `{n}` is not a state machine name"),
            )
            .at(Some(name.span))
            .label("1–80 of A-Z a-z 0-9 - _")
            .help(
                "use 1–80 letters, digits, `-` and `_`, or leave it out for `restoreplan-{plan}`",
            ),
        );
    }
    if text(engine) != Some("step-functions") {
        return;
    }
    let engine_span = engine.map(|e| e.span);
    if text(sfn.and_then(|s| s.get("role"))).is_none() {
        findings.push(
            Finding::error(
                codes::STEP_FUNCTIONS_ROLE,
                "`engine: step-functions` needs `execution.step_functions.role`",
            )
            .at(engine_span)
            .label("no role for the state machine")
            .help("add `step_functions: { role: arn:aws:iam::ACCOUNT:role/NAME }` under `execution` (docs/step-functions.md lists what the role needs; `restoreplan export step-functions` writes its policy)"),
        );
    }
    let key = |k: &str| Segment::Key(k.to_owned());
    let mut places: Vec<Vec<Segment>> = vec![vec![key("defaults")]];
    if let Some(Value::Seq(items)) = root.get("restores").map(|n| &n.value) {
        for i in 0..items.len() {
            places.push(vec![key("restores"), Segment::Index(i)]);
        }
    }
    for base in places {
        let mut path = base.clone();
        path.extend([key("after_restore"), key("verify"), key("command")]);
        let Some(command) = root.at(&path) else {
            continue;
        };
        findings.push(super::tree::with_restore(
            Finding::error(
                codes::VERIFY_COMMAND_ENGINE,
                "`verify.command` runs only with the local engine; this plan runs on Step Functions",
            )
            .at(Some(command.span))
            .label("not run by a state machine")
            .help("remove `command` and run it afterwards from any machine with `restoreplan verify RUN`, or use `engine: local`"),
            root,
            &base,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_and_names() {
        assert!(valid_role_arn(
            "arn:aws:iam::444455556666:role/restoreplan-state-machine"
        ));
        assert!(valid_role_arn(
            "arn:aws:iam::444455556666:role/service-role/x"
        ));
        assert!(!valid_role_arn("arn:aws:iam::4444:role/x"));
        assert!(!valid_role_arn("arn:aws:iam::444455556666:user/x"));
        assert!(!valid_role_arn("restoreplan"));
        assert!(valid_name("restoreplan-payments-dr"));
        assert!(!valid_name(""));
        assert!(!valid_name("a b"));
        assert!(!valid_name(&"a".repeat(81)));
    }

    #[test]
    fn the_name_defaults_to_the_plan() {
        assert_eq!(resolve("shop", None, None), Engine::Local);
        assert_eq!(
            resolve("shop", Some(RawEngine::StepFunctions), None),
            Engine::StepFunctions {
                role: None,
                name: "restoreplan-shop".into()
            }
        );
    }
}
