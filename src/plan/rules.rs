//! The registry of every rule code restoreplan reports.
//!
//! Codes are part of the user-facing contract: JSON output, GitHub
//! annotations and `docs/rules.md` anchors use them. Add codes; never rename
//! one. Every code is defined here except the graph's, which live beside
//! their rules in [`crate::graph::codes`] (the graph sits below the plan);
//! live, dry-run and sizes-file codes are here for the checks above the plan. [`REGISTRY`]
//! lists them all (the static ones first, as [`ALL`]); the registry section
//! of `docs/rules.md` is generated from it, and a test checks that every code
//! string in `src/` is registered and every entry is used.

use crate::diag::Severity;
use crate::graph::codes as graph;

/// The file is over the size cap.
pub const INPUT_TOO_LARGE: &str = "restoreplan::input::too_large";
/// The file is not UTF-8.
pub const INPUT_NOT_UTF8: &str = "restoreplan::input::not_utf8";
/// The text is not YAML.
pub const YAML_SYNTAX: &str = "restoreplan::yaml::syntax";
/// Nesting, node count or alias expansion is over a hard limit.
pub const YAML_LIMIT: &str = "restoreplan::yaml::limit";
/// A mapping repeats a key.
pub const YAML_DUPLICATE_KEY: &str = "restoreplan::yaml::duplicate_key";
/// A YAML tag other than the core ones.
pub const YAML_TAG: &str = "restoreplan::yaml::tag";
/// More than one YAML document in the file.
pub const YAML_MULTIPLE_DOCUMENTS: &str = "restoreplan::yaml::multiple_documents";
/// The file holds no YAML document.
pub const YAML_EMPTY: &str = "restoreplan::yaml::empty";
/// A key the format does not define.
pub const SCHEMA_UNKNOWN_KEY: &str = "restoreplan::schema::unknown_key";
/// A required key is missing.
pub const SCHEMA_MISSING_KEY: &str = "restoreplan::schema::missing_key";
/// A value of the wrong type.
pub const SCHEMA_WRONG_TYPE: &str = "restoreplan::schema::wrong_type";
/// A value outside the allowed set.
pub const SCHEMA_INVALID_VALUE: &str = "restoreplan::schema::invalid_value";
/// The plan's `version` is not 1.
pub const PLAN_VERSION: &str = "restoreplan::plan::version";
/// The plan's `name` does not match `^[a-z0-9][a-z0-9-]{0,62}$`.
pub const PLAN_INVALID_NAME: &str = "restoreplan::plan::invalid_name";
/// The plan has no restores.
pub const PLAN_NO_RESTORES: &str = "restoreplan::plan::no_restores";
/// An account id written as a YAML number.
pub const ACCOUNT_UNQUOTED: &str = "restoreplan::account::unquoted";
/// An account id that is not 12 digits.
pub const ACCOUNT_INVALID: &str = "restoreplan::account::invalid";
/// A Region name that does not look like one.
pub const REGION_INVALID: &str = "restoreplan::region::invalid";
/// A restore whose source or target account or Region is set nowhere.
pub const LOCATION_MISSING: &str = "restoreplan::location::missing";
/// A duration that is not `<number><s|m|h|d>`.
pub const DURATION_INVALID: &str = "restoreplan::duration::invalid";
/// `execution.concurrency` outside 1..=1000.
pub const CONCURRENCY_RANGE: &str = "restoreplan::execution::concurrency_range";
/// `execution.concurrency` above DynamoDB's 50 concurrent restores.
pub const CONCURRENCY_ABOVE_QUOTA: &str = "restoreplan::execution::concurrency_above_quota";
/// `engine: step-functions` without a role, or a role that is not a role ARN.
pub const STEP_FUNCTIONS_ROLE: &str = "restoreplan::execution::step_functions_role";
/// `execution.step_functions.name` that is not a state machine name.
pub const STEP_FUNCTIONS_NAME: &str = "restoreplan::execution::step_functions_name";
/// `verify.command` in a plan that runs on Step Functions.
pub const VERIFY_COMMAND_ENGINE: &str = "restoreplan::verify::command_engine";
/// Two restores with the same id.
pub const DUPLICATE_ID: &str = "restoreplan::restore::duplicate_id";
/// An id with characters outside `[A-Za-z0-9_.-]` or longer than 255.
pub const INVALID_ID: &str = "restoreplan::restore::invalid_id";
/// A source or target table name outside 3–255 of `[A-Za-z0-9_.-]`.
pub const INVALID_TABLE_NAME: &str = "restoreplan::restore::invalid_table_name";
/// Two restores into the same (account, Region, name).
pub const DUPLICATE_TARGET: &str = "restoreplan::restore::duplicate_target";
/// A restore whose target is its own original table.
pub const OVERWRITES_SOURCE: &str = "restoreplan::restore::overwrites_source";
/// An `after_restore.tags` key AWS or restoreplan reserves (`aws:`, `restoreplan:`).
pub const RESERVED_TAG: &str = "restoreplan::restore::reserved_tag";
/// `after_restore.kinesis_destination.stream_arn` that is not a Kinesis data stream ARN.
pub const KINESIS_STREAM_ARN: &str = "restoreplan::after_restore::kinesis_stream_arn";
/// `verify.items` whose `min` is above its `max`, or with no bound.
pub const VERIFY_ITEMS_RANGE: &str = "restoreplan::verify::items_range";
/// `verify.max_read_fraction` outside (0, 1].
pub const VERIFY_READ_FRACTION: &str = "restoreplan::verify::read_fraction";
/// `verify.command` without a program.
pub const VERIFY_COMMAND_EMPTY: &str = "restoreplan::verify::command_empty";
/// A `verify.keys` entry without attributes.
pub const VERIFY_KEY_EMPTY: &str = "restoreplan::verify::key_empty";
/// A template names a placeholder other than `{table}`, `{plan}`, `{date}`.
pub const TEMPLATE_UNKNOWN_PLACEHOLDER: &str = "restoreplan::template::unknown_placeholder";
/// A template with an unbalanced `{` or `}`.
pub const TEMPLATE_MALFORMED: &str = "restoreplan::template::malformed";
/// A recovery point ARN that is neither AWS Backup's nor DynamoDB's.
pub const RECOVERY_POINT_MALFORMED_ARN: &str = "restoreplan::recovery_point::malformed_arn";
/// A recovery point ARN in another account or Region than the restore.
pub const RECOVERY_POINT_ARN_LOCATION: &str = "restoreplan::recovery_point::arn_location";
/// A timestamp that is not RFC 3339.
pub const INVALID_TIMESTAMP: &str = "restoreplan::recovery_point::invalid_timestamp";
/// A point-in-time restore into another account.
pub const PITR_CROSS_ACCOUNT: &str = "restoreplan::recovery_point::pitr_cross_account";
/// A restore through AWS Backup without `target.role`.
pub const ROLE_REQUIRED: &str = "restoreplan::target::role_required";
/// `target.role` that is not an IAM role ARN.
pub const ROLE_MALFORMED: &str = "restoreplan::target::malformed_role";
/// `target.vault` that is not a valid vault name.
pub const VAULT_INVALID: &str = "restoreplan::target::invalid_vault";
/// `keys.NAME.arn` or an inline key that is not a KMS key or alias ARN.
pub const KMS_MALFORMED_ARN: &str = "restoreplan::kms::malformed_arn";
/// `customer-managed` encryption without `key`.
pub const KMS_MISSING_KEY: &str = "restoreplan::kms::missing_key";
/// `key` names no entry of `keys`.
pub const KMS_UNKNOWN_KEY: &str = "restoreplan::kms::unknown_key";
/// `key` given with an encryption type that takes none.
pub const KMS_UNUSED_KEY: &str = "restoreplan::kms::unused_key";

// The copy step (`copy:`).
/// `copy` without `vault` or `role`, with a malformed one, or a role of another account than the source.
pub const COPY_INVALID: &str = "restoreplan::copy::invalid";
/// `copy` without `target.vault` to copy into.
pub const COPY_TARGET_VAULT: &str = "restoreplan::copy::target_vault_required";
/// `copy` on a point-in-time restore.
pub const COPY_POINT_IN_TIME: &str = "restoreplan::copy::point_in_time";
/// `copy` of a DynamoDB-managed backup into another account.
pub const COPY_DYNAMODB_BACKUP: &str = "restoreplan::copy::dynamodb_backup_cross_account";
/// The source vault of `copy` does not exist.
pub const LIVE_COPY_SOURCE_VAULT: &str = "restoreplan::copy::source_vault_not_found";
/// The target vault a copy goes into does not exist.
pub const LIVE_COPY_TARGET_VAULT: &str = "restoreplan::copy::target_vault_not_found";
/// The target vault's access policy does not let the source account copy into it.
pub const LIVE_COPY_NOT_ADMITTED: &str = "restoreplan::copy::not_admitted";
// Capacity and class (`billing_mode`, `throughput`, `on_demand_throughput`, `table_class`).
/// Capacity units below 1 (or an on-demand maximum below 1 and not -1), or an empty `on_demand_throughput`.
pub const CAPACITY_RANGE: &str = "restoreplan::capacity::range";
/// `throughput` with `billing_mode: on-demand`.
pub const CAPACITY_THROUGHPUT_ON_DEMAND: &str = "restoreplan::capacity::throughput_on_demand";
/// `on_demand_throughput` with `billing_mode: provisioned`.
pub const CAPACITY_ON_DEMAND_PROVISIONED: &str = "restoreplan::capacity::on_demand_provisioned";
/// Provisioned billing without `throughput` for an on-demand original (nothing to copy).
pub const LIVE_CAPACITY_NEEDS_THROUGHPUT: &str = "restoreplan::capacity::needs_throughput";
/// `throughput` or `on_demand_throughput` that contradicts the original's billing mode.
pub const LIVE_CAPACITY_ORIGINAL_MODE: &str = "restoreplan::capacity::original_billing_mode";
/// A kept index of a provisioned table with no throughput from the plan or the original.
pub const LIVE_INDEX_NEEDS_THROUGHPUT: &str = "restoreplan::capacity::index_needs_throughput";

// Selectors (`select:` entries, expanded against the account's tables).
/// A selector that matches no table.
pub const SELECT_NO_MATCH: &str = "restoreplan::select::no_match";
/// A table matched by two selectors.
pub const SELECT_MATCHED_TWICE: &str = "restoreplan::select::matched_twice";
/// A table matched by a selector that has its own restore.
pub const SELECT_OVERRIDDEN: &str = "restoreplan::select::overridden";
/// A group id that is also a restore's id, or another group's.
pub const SELECT_GROUP_ID_TAKEN: &str = "restoreplan::select::group_id_taken";
/// A restore with both `table` and `select`.
pub const SELECT_TABLE_OR_SELECT: &str = "restoreplan::select::table_or_select";
/// A selector without `names` or `tags`, or with a malformed glob.
pub const SELECT_INVALID: &str = "restoreplan::select::invalid";
/// A group that depends on itself.
pub const SELECT_SELF_DEPENDENCY: &str = "restoreplan::select::self_dependency";

// Live checks (`validate --live`, `plan`, `apply`).
/// No usable credentials for an account.
pub const LIVE_CREDENTIALS: &str = "restoreplan::aws::credentials";
/// AWS (or the endpoint given) could not be reached for an account.
pub const LIVE_UNREACHABLE: &str = "restoreplan::aws::unreachable";
/// The credentials for an account are of another account.
pub const LIVE_WRONG_ACCOUNT: &str = "restoreplan::aws::wrong_account";
/// An AWS call failed in a way that is not a finding about the plan.
pub const LIVE_CALL_FAILED: &str = "restoreplan::aws::call_failed";
/// The key does not exist or is not visible to the target account.
pub const LIVE_KEY_NOT_FOUND: &str = "restoreplan::kms::key_not_found";
/// The key is not `Enabled`.
pub const LIVE_KEY_NOT_ENABLED: &str = "restoreplan::kms::key_not_enabled";
/// The key is not a symmetric encryption key.
pub const LIVE_KEY_NOT_SYMMETRIC: &str = "restoreplan::kms::key_not_symmetric";
/// A key of another Region that is not multi-Region.
pub const LIVE_NOT_MULTI_REGION: &str = "restoreplan::kms::not_multi_region";
/// A multi-Region key without a replica in the target Region.
pub const LIVE_NO_REPLICA: &str = "restoreplan::kms::no_replica";
/// `customer-managed` names an AWS-managed key.
pub const LIVE_NOT_CUSTOMER_MANAGED: &str = "restoreplan::kms::not_customer_managed";
/// A key of another account whose policy does not share it with the target account.
pub const LIVE_NOT_SHARED: &str = "restoreplan::kms::not_shared";
/// An AWS-owned or AWS-managed key, which can never be shared across accounts.
pub const LIVE_NOT_SHAREABLE: &str = "restoreplan::kms::not_shareable";
/// The recovery point or backup does not exist.
pub const LIVE_RP_NOT_FOUND: &str = "restoreplan::recovery_point::not_found";
/// `latest` found no usable recovery point.
pub const LIVE_RP_NONE: &str = "restoreplan::recovery_point::none_available";
/// The recovery point is not `COMPLETED`.
pub const LIVE_RP_NOT_COMPLETED: &str = "restoreplan::recovery_point::not_completed";
/// The recovery point is not of a DynamoDB table.
pub const LIVE_RP_NOT_DYNAMODB: &str = "restoreplan::recovery_point::not_dynamodb";
/// The recovery point is of another table than the restore's.
pub const LIVE_RP_OTHER_TABLE: &str = "restoreplan::recovery_point::other_table";
/// The recovery point is older than `objectives.rpo`.
pub const LIVE_RP_TOO_OLD: &str = "restoreplan::recovery_point::too_old";
/// The recovery point is not where the restore runs.
pub const LIVE_RP_WRONG_LOCATION: &str = "restoreplan::recovery_point::wrong_location";
/// A recovery point ARN needs `target.vault` to be described.
pub const LIVE_VAULT_REQUIRED: &str = "restoreplan::recovery_point::vault_required";
/// Point-in-time recovery is off on the original table.
pub const LIVE_PITR_NOT_ENABLED: &str = "restoreplan::pitr::not_enabled";
/// The requested time is outside the restorable window.
pub const LIVE_PITR_OUTSIDE_WINDOW: &str = "restoreplan::pitr::outside_window";
/// The target table already exists.
pub const LIVE_TARGET_EXISTS: &str = "restoreplan::target::exists";
/// The original table could not be read, so a setting could not be copied.
pub const LIVE_SOURCE_UNREADABLE: &str = "restoreplan::source::unreadable";
/// `indexes` names an index the recovery point (or original table) lacks.
pub const LIVE_UNKNOWN_INDEX: &str = "restoreplan::plan::unknown_index";
/// A `verify.keys` entry does not fit the table's key schema.
pub const LIVE_VERIFY_KEY_SCHEMA: &str = "restoreplan::verify::key_schema";

// The dry run (`plan`, `apply`).
/// A setting of the original table is neither carried over nor re-applied.
pub const SETTING_LOST: &str = "restoreplan::plan::setting_lost";
/// IAM identity policies that name an original table are not copied.
pub const IDENTITY_POLICIES: &str = "restoreplan::plan::identity_policies";
/// The predicted RTO exceeds `objectives.rto`.
pub const RTO_EXCEEDED: &str = "restoreplan::plan::rto_exceeded";

// `simulate --sizes`.
/// A sizes file that does not parse.
pub const SIZES_INVALID: &str = "restoreplan::sizes::invalid";

/// Where a rule is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Offline, from the file alone (`validate`).
    Static,
    /// While expanding `select:` entries against the account's tables.
    Selector,
    /// On the dependency graph.
    Graph,
    /// Against the accounts (`validate --live`, `plan`, `apply`).
    Live,
    /// By the dry run (`plan`, `apply`).
    DryRun,
    /// On a `simulate --sizes` file.
    Sizes,
}

impl Stage {
    /// The stage's name in documentation.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Static => "static",
            Stage::Selector => "selector",
            Stage::Graph => "graph",
            Stage::Live => "live",
            Stage::DryRun => "dry run",
            Stage::Sizes => "sizes file",
        }
    }

    /// Where the rule's codes are explained and how to fix them, as a
    /// link relative to `docs/rules.md`.
    pub fn docs(self, code: &str) -> String {
        match self {
            Stage::Static | Stage::Graph | Stage::Selector => {
                let url = crate::diag::rule_url(code);
                let anchor = url.trim_start_matches("docs/rules.md");
                format!("[below]({anchor})")
            }
            Stage::Live => "[live validation](live-validation.md#what-is-checked)".to_owned(),
            Stage::DryRun => "[plan and review](plan-and-review.md)".to_owned(),
            Stage::Sizes => "[simulate](simulate.md)".to_owned(),
        }
    }
}

/// One rule: its code, severity, where it is checked and what it checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The stable code.
    pub code: &'static str,
    /// The severity its findings have.
    pub severity: Severity,
    /// Where it is checked.
    pub stage: Stage,
    /// One line: what the rule checks.
    pub summary: &'static str,
}

const fn rule(code: &'static str, severity: Severity, stage: Stage, summary: &'static str) -> Rule {
    Rule {
        code,
        severity,
        stage,
        summary,
    }
}

use Severity::{Error, Warning};

/// Number of static rules (file and graph), which come first in [`REGISTRY`].
const STATIC_RULES: usize = 59;

/// Every static rule, in documentation order (each has a fixture under
/// `tests/fixtures/rules/`).
pub const ALL: &[Rule] = REGISTRY.split_at(STATIC_RULES).0;

/// Every rule code restoreplan reports, in documentation order.
pub const REGISTRY: &[Rule] = &[
    rule(
        INPUT_TOO_LARGE,
        Error,
        Stage::Static,
        "the file is larger than the 8 MiB cap",
    ),
    rule(
        INPUT_NOT_UTF8,
        Error,
        Stage::Static,
        "the file is not UTF-8 text",
    ),
    rule(YAML_SYNTAX, Error, Stage::Static, "the text is not YAML"),
    rule(
        YAML_LIMIT,
        Error,
        Stage::Static,
        "nesting depth, node count or alias expansion over a hard limit",
    ),
    rule(
        YAML_DUPLICATE_KEY,
        Error,
        Stage::Static,
        "a mapping repeats a key",
    ),
    rule(
        YAML_TAG,
        Error,
        Stage::Static,
        "a YAML tag other than the core schema's",
    ),
    rule(
        YAML_MULTIPLE_DOCUMENTS,
        Error,
        Stage::Static,
        "more than one YAML document",
    ),
    rule(YAML_EMPTY, Error, Stage::Static, "no YAML document at all"),
    rule(
        SCHEMA_UNKNOWN_KEY,
        Error,
        Stage::Static,
        "a key the format does not define",
    ),
    rule(
        SCHEMA_MISSING_KEY,
        Error,
        Stage::Static,
        "a required key is missing",
    ),
    rule(
        SCHEMA_WRONG_TYPE,
        Error,
        Stage::Static,
        "a value of the wrong type",
    ),
    rule(
        SCHEMA_INVALID_VALUE,
        Error,
        Stage::Static,
        "a value outside the allowed set",
    ),
    rule(PLAN_VERSION, Error, Stage::Static, "`version` is not 1"),
    rule(
        PLAN_INVALID_NAME,
        Error,
        Stage::Static,
        "`name` does not match `^[a-z0-9][a-z0-9-]{0,62}$`",
    ),
    rule(
        PLAN_NO_RESTORES,
        Error,
        Stage::Static,
        "`restores` is empty",
    ),
    rule(
        ACCOUNT_UNQUOTED,
        Error,
        Stage::Static,
        "an account id written as a number",
    ),
    rule(
        ACCOUNT_INVALID,
        Error,
        Stage::Static,
        "an account id that is not 12 digits",
    ),
    rule(
        REGION_INVALID,
        Error,
        Stage::Static,
        "a Region that is not shaped like one",
    ),
    rule(
        LOCATION_MISSING,
        Error,
        Stage::Static,
        "a restore's source or target account or Region is set nowhere",
    ),
    rule(
        DURATION_INVALID,
        Error,
        Stage::Static,
        "a duration that is not `90m`, `24h`, `7d`, `30s`",
    ),
    rule(
        CONCURRENCY_RANGE,
        Error,
        Stage::Static,
        "`execution.concurrency` outside 1..=1000",
    ),
    rule(
        CONCURRENCY_ABOVE_QUOTA,
        Warning,
        Stage::Static,
        "`execution.concurrency` above DynamoDB's 50 concurrent restores (warning)",
    ),
    rule(
        STEP_FUNCTIONS_ROLE,
        Error,
        Stage::Static,
        "`engine: step-functions` without `execution.step_functions.role`, or a role that is not a role ARN",
    ),
    rule(
        STEP_FUNCTIONS_NAME,
        Error,
        Stage::Static,
        "`execution.step_functions.name` outside 1–80 of `[A-Za-z0-9_-]`",
    ),
    rule(
        VERIFY_COMMAND_ENGINE,
        Error,
        Stage::Static,
        "`verify.command` in a plan whose engine is `step-functions` (only the local engine runs it)",
    ),
    rule(
        DUPLICATE_ID,
        Error,
        Stage::Static,
        "two restores with the same id",
    ),
    rule(
        INVALID_ID,
        Error,
        Stage::Static,
        "an id outside 1–255 of `[A-Za-z0-9_.-]`",
    ),
    rule(
        INVALID_TABLE_NAME,
        Error,
        Stage::Static,
        "a table name (after template expansion) outside 3–255 of `[A-Za-z0-9_.-]`",
    ),
    rule(
        DUPLICATE_TARGET,
        Error,
        Stage::Static,
        "two restores into the same account, Region and table name",
    ),
    rule(
        RESERVED_TAG,
        Error,
        Stage::Static,
        "a tag key with a reserved prefix (`aws:`, `restoreplan:`)",
    ),
    rule(
        KINESIS_STREAM_ARN,
        Error,
        Stage::Static,
        "`kinesis_destination.stream_arn` that is not a Kinesis data stream ARN",
    ),
    rule(
        VERIFY_ITEMS_RANGE,
        Error,
        Stage::Static,
        "`verify.items` whose `min` is above its `max`, or with no bound",
    ),
    rule(
        VERIFY_READ_FRACTION,
        Error,
        Stage::Static,
        "`verify.max_read_fraction` outside (0, 1]",
    ),
    rule(
        VERIFY_COMMAND_EMPTY,
        Error,
        Stage::Static,
        "`verify.command` that names no program",
    ),
    rule(
        VERIFY_KEY_EMPTY,
        Error,
        Stage::Static,
        "a `verify.keys` entry that names no attribute",
    ),
    rule(
        COPY_INVALID,
        Error,
        Stage::Static,
        "`copy` without `vault` or `role`, with a malformed one, or a role of another account than the source",
    ),
    rule(
        COPY_TARGET_VAULT,
        Error,
        Stage::Static,
        "`copy` without a `target.vault` to copy into",
    ),
    rule(
        COPY_POINT_IN_TIME,
        Error,
        Stage::Static,
        "`copy` on a point-in-time restore",
    ),
    rule(
        COPY_DYNAMODB_BACKUP,
        Error,
        Stage::Static,
        "`copy` of a DynamoDB-managed backup (not advanced) into another account",
    ),
    rule(
        OVERWRITES_SOURCE,
        Error,
        Stage::Static,
        "a restore whose target is its own original table",
    ),
    rule(
        TEMPLATE_UNKNOWN_PLACEHOLDER,
        Error,
        Stage::Static,
        "a placeholder other than `{table}`, `{plan}`, `{date}`",
    ),
    rule(
        TEMPLATE_MALFORMED,
        Error,
        Stage::Static,
        "an unbalanced `{` or `}` in a template",
    ),
    rule(
        RECOVERY_POINT_MALFORMED_ARN,
        Error,
        Stage::Static,
        "a recovery point ARN that is neither AWS Backup's nor DynamoDB's",
    ),
    rule(
        RECOVERY_POINT_ARN_LOCATION,
        Error,
        Stage::Static,
        "a recovery point ARN in another account or Region than the restore runs in (a DynamoDB backup may restore in another Region of its account)",
    ),
    rule(
        INVALID_TIMESTAMP,
        Error,
        Stage::Static,
        "a timestamp that is not RFC 3339",
    ),
    rule(
        PITR_CROSS_ACCOUNT,
        Error,
        Stage::Static,
        "a point-in-time restore into another account",
    ),
    rule(
        ROLE_REQUIRED,
        Error,
        Stage::Static,
        "a restore through AWS Backup without `target.role`",
    ),
    rule(
        ROLE_MALFORMED,
        Error,
        Stage::Static,
        "`target.role` that is not an IAM role ARN",
    ),
    rule(
        VAULT_INVALID,
        Error,
        Stage::Static,
        "`target.vault` that is not a valid AWS Backup vault name",
    ),
    rule(
        KMS_MALFORMED_ARN,
        Error,
        Stage::Static,
        "a key that is not a KMS key ARN or alias ARN",
    ),
    rule(
        KMS_MISSING_KEY,
        Error,
        Stage::Static,
        "`customer-managed` encryption without `key`",
    ),
    rule(
        KMS_UNKNOWN_KEY,
        Error,
        Stage::Static,
        "`key` names no entry of `keys`",
    ),
    rule(
        KMS_UNUSED_KEY,
        Error,
        Stage::Static,
        "`key` with an encryption type that takes none",
    ),
    rule(
        CAPACITY_RANGE,
        Error,
        Stage::Static,
        "capacity units below 1, an on-demand maximum below 1 (and not -1), or an empty `on_demand_throughput`",
    ),
    rule(
        CAPACITY_THROUGHPUT_ON_DEMAND,
        Error,
        Stage::Static,
        "`throughput` with `billing_mode: on-demand`",
    ),
    rule(
        CAPACITY_ON_DEMAND_PROVISIONED,
        Error,
        Stage::Static,
        "`on_demand_throughput` with `billing_mode: provisioned`",
    ),
    rule(
        graph::UNKNOWN_DEPENDENCY,
        Error,
        Stage::Graph,
        "`depends_on` names an unknown id",
    ),
    rule(
        graph::SELF_DEPENDENCY,
        Error,
        Stage::Graph,
        "a restore depends on itself",
    ),
    rule(
        graph::CYCLE,
        Error,
        Stage::Graph,
        "the dependencies form a cycle",
    ),
    rule(
        SELECT_NO_MATCH,
        Error,
        Stage::Selector,
        "a selector that matches no table",
    ),
    rule(
        SELECT_MATCHED_TWICE,
        Error,
        Stage::Selector,
        "a table matched by two selectors",
    ),
    rule(
        SELECT_OVERRIDDEN,
        Warning,
        Stage::Selector,
        "a table matched by a selector that also has its own restore",
    ),
    rule(
        SELECT_GROUP_ID_TAKEN,
        Error,
        Stage::Selector,
        "a group id that is also a restore's id, or another group's",
    ),
    rule(
        SELECT_TABLE_OR_SELECT,
        Error,
        Stage::Selector,
        "a restore with both `table` and `select`",
    ),
    rule(
        SELECT_INVALID,
        Error,
        Stage::Selector,
        "a selector without `names` or `tags`, or with a malformed glob",
    ),
    rule(
        SELECT_SELF_DEPENDENCY,
        Error,
        Stage::Selector,
        "a group that depends on itself",
    ),
    rule(
        LIVE_CREDENTIALS,
        Error,
        Stage::Live,
        "no usable credentials for an account",
    ),
    rule(
        LIVE_UNREACHABLE,
        Error,
        Stage::Live,
        "AWS (or the endpoint given) could not be reached for an account",
    ),
    rule(
        LIVE_WRONG_ACCOUNT,
        Error,
        Stage::Live,
        "the credentials for an account are of another account",
    ),
    rule(
        LIVE_CALL_FAILED,
        Error,
        Stage::Live,
        "an AWS call failed in a way that is not a finding about the plan",
    ),
    rule(
        LIVE_KEY_NOT_FOUND,
        Error,
        Stage::Live,
        "the key does not exist or is not visible to the target account",
    ),
    rule(
        LIVE_KEY_NOT_ENABLED,
        Error,
        Stage::Live,
        "the key is not `Enabled`",
    ),
    rule(
        LIVE_KEY_NOT_SYMMETRIC,
        Error,
        Stage::Live,
        "the key is not a symmetric encryption key",
    ),
    rule(
        LIVE_NOT_MULTI_REGION,
        Error,
        Stage::Live,
        "a key of another Region that is not multi-Region",
    ),
    rule(
        LIVE_NO_REPLICA,
        Error,
        Stage::Live,
        "a multi-Region key without a replica in the target Region",
    ),
    rule(
        LIVE_NOT_CUSTOMER_MANAGED,
        Error,
        Stage::Live,
        "`customer-managed` names an AWS-managed key",
    ),
    rule(
        LIVE_NOT_SHARED,
        Error,
        Stage::Live,
        "a key of another account whose policy does not share it with the target account",
    ),
    rule(
        LIVE_NOT_SHAREABLE,
        Error,
        Stage::Live,
        "an AWS-owned or AWS-managed key, which can never be shared across accounts",
    ),
    rule(
        LIVE_RP_NOT_FOUND,
        Error,
        Stage::Live,
        "the recovery point or backup does not exist",
    ),
    rule(
        LIVE_RP_NONE,
        Error,
        Stage::Live,
        "`latest` found no usable recovery point",
    ),
    rule(
        LIVE_RP_NOT_COMPLETED,
        Error,
        Stage::Live,
        "the recovery point is not `COMPLETED`",
    ),
    rule(
        LIVE_RP_NOT_DYNAMODB,
        Error,
        Stage::Live,
        "the recovery point is not of a DynamoDB table",
    ),
    rule(
        LIVE_RP_OTHER_TABLE,
        Warning,
        Stage::Live,
        "the recovery point is of another table than the restore's",
    ),
    rule(
        LIVE_RP_TOO_OLD,
        Error,
        Stage::Live,
        "the recovery point is older than `objectives.rpo`",
    ),
    rule(
        LIVE_RP_WRONG_LOCATION,
        Error,
        Stage::Live,
        "the recovery point is not where the restore runs",
    ),
    rule(
        LIVE_VAULT_REQUIRED,
        Error,
        Stage::Live,
        "a recovery point ARN needs `target.vault` to be described",
    ),
    rule(
        LIVE_PITR_NOT_ENABLED,
        Error,
        Stage::Live,
        "point-in-time recovery is off on the original table",
    ),
    rule(
        LIVE_PITR_OUTSIDE_WINDOW,
        Error,
        Stage::Live,
        "the requested time is outside the restorable window",
    ),
    rule(
        LIVE_TARGET_EXISTS,
        Error,
        Stage::Live,
        "the target table already exists",
    ),
    rule(
        LIVE_SOURCE_UNREADABLE,
        Warning,
        Stage::Live,
        "the original table could not be read, so a setting could not be copied",
    ),
    rule(
        LIVE_CAPACITY_NEEDS_THROUGHPUT,
        Error,
        Stage::Live,
        "provisioned billing without `throughput` where the original is on-demand",
    ),
    rule(
        LIVE_CAPACITY_ORIGINAL_MODE,
        Error,
        Stage::Live,
        "`throughput` or `on_demand_throughput` that contradicts the original's billing mode",
    ),
    rule(
        LIVE_INDEX_NEEDS_THROUGHPUT,
        Error,
        Stage::Live,
        "a kept index of a provisioned table has no throughput from the plan or the original",
    ),
    rule(
        LIVE_UNKNOWN_INDEX,
        Warning,
        Stage::Live,
        "`indexes` names an index the recovery point (or original table) lacks",
    ),
    rule(
        LIVE_COPY_SOURCE_VAULT,
        Error,
        Stage::Live,
        "the vault `copy` names does not exist in the source account and Region",
    ),
    rule(
        LIVE_COPY_TARGET_VAULT,
        Error,
        Stage::Live,
        "the target vault a copy goes into does not exist",
    ),
    rule(
        LIVE_COPY_NOT_ADMITTED,
        Error,
        Stage::Live,
        "the target vault's access policy does not let the source account copy into it",
    ),
    rule(
        LIVE_VERIFY_KEY_SCHEMA,
        Error,
        Stage::Live,
        "a `verify.keys` entry does not fit the table's key schema",
    ),
    rule(
        SETTING_LOST,
        Warning,
        Stage::DryRun,
        "a setting of the original table is neither carried over nor re-applied",
    ),
    rule(
        IDENTITY_POLICIES,
        Severity::Note,
        Stage::DryRun,
        "IAM identity policies that name an original table are not copied to the restored one",
    ),
    rule(
        RTO_EXCEEDED,
        Warning,
        Stage::DryRun,
        "the predicted RTO exceeds `objectives.rto`",
    ),
    rule(
        SIZES_INVALID,
        Error,
        Stage::Sizes,
        "a sizes file that does not parse",
    ),
];

/// The registered rule with `code`.
pub fn find(code: &str) -> Option<&'static Rule> {
    REGISTRY.iter().find(|r| r.code == code)
}

/// The registry section of `docs/rules.md`: every code, its severity, where
/// it is checked and what it checks.
pub fn registry_markdown() -> String {
    let mut out = String::from(
        "| code | severity | checked | what it checks | explained, with the fix |\n| --- | --- | --- | --- | --- |\n",
    );
    for r in REGISTRY {
        let severity = match r.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        out.push_str(&format!(
            "| `{}` | {severity} | {} | {} | {} |\n",
            r.code,
            r.stage.label(),
            r.summary.replace('|', "\\|"),
            r.stage.docs(r.code)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    const BEGIN: &str = "<!-- registry:begin (generated from src/plan/rules.rs; RESTOREPLAN_UPDATE_DOCS=1 cargo test --lib registry to write) -->\n";
    const END: &str = "<!-- registry:end -->\n";

    fn root() -> PathBuf {
        PathBuf::from(crate::REPO_ROOT)
    }

    /// Product source files of `src/`, each without its test module; files
    /// that hold only test code are left out.
    fn product_sources() -> Vec<(PathBuf, String)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
            let mut entries: Vec<_> = std::fs::read_dir(dir)
                .expect("src/ is readable")
                .filter_map(Result::ok)
                .map(|e| e.path())
                .collect();
            entries.sort();
            for path in entries {
                if path.is_dir() {
                    walk(&path, out);
                    continue;
                }
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let test_only = name.starts_with("tests")
                    || name.starts_with("test_")
                    || matches!(name, "testing.rs" | "fixtures.rs" | "snapshot_tests.rs");
                if !name.ends_with(".rs") || test_only {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("source is UTF-8");
                let product = match text.find("#[cfg(test)]\nmod tests") {
                    Some(i) => text[..i].to_owned(),
                    None => text,
                };
                out.push((path, product));
            }
        }
        let mut out = Vec::new();
        walk(&root().join("src"), &mut out);
        out
    }

    /// Every full code literal (`"restoreplan::area::name"`) in `text`.
    fn code_literals(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        for (i, _) in text.match_indices("\"restoreplan::") {
            let rest = &text[i + 1..];
            let Some(end) = rest.find('"') else { continue };
            let lit = &rest[..end];
            let parts: Vec<&str> = lit.split("::").collect();
            let well_formed = parts.len() == 3
                && parts[1..].iter().all(|p| {
                    !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                });
            if well_formed {
                found.push(lit.to_owned());
            }
        }
        found
    }

    #[test]
    fn registry_codes_are_unique_and_static_ones_come_first() {
        let mut seen = BTreeSet::new();
        for r in REGISTRY {
            assert!(seen.insert(r.code), "{} is registered twice", r.code);
            assert!(!r.summary.is_empty(), "{} has no summary", r.code);
        }
        for (i, r) in REGISTRY.iter().enumerate() {
            let offline = matches!(r.stage, Stage::Static | Stage::Graph);
            assert_eq!(offline, i < ALL.len(), "{} is out of place", r.code);
        }
    }

    #[test]
    fn registry_is_complete_every_code_in_src_is_registered() {
        let mut count = 0;
        for (path, text) in product_sources() {
            for code in code_literals(&text) {
                count += 1;
                assert!(
                    find(&code).is_some(),
                    "{code} (in {}) is not in plan::rules::REGISTRY",
                    path.display()
                );
            }
        }
        assert!(count >= REGISTRY.len(), "found only {count} code literals");
    }

    #[test]
    fn registry_every_entry_is_used() {
        let sources = product_sources();
        let rules_rs = root().join("src/plan/rules.rs");
        let own = std::fs::read_to_string(&rules_rs).expect("rules.rs");
        for r in REGISTRY {
            // The constant naming it in this file, if any.
            let constant = own.lines().find_map(|l| {
                let l = l.trim();
                let rest = l.strip_prefix("pub const ")?;
                let (name, value) = rest.split_once(": &str = ")?;
                (value.trim_end_matches(';') == format!("\"{}\"", r.code)).then_some(name)
            });
            let used = sources.iter().any(|(path, text)| {
                if path == &rules_rs {
                    return false;
                }
                let literal = text.contains(&format!("\"{}\"", r.code));
                let by_name = constant.is_some_and(|c| {
                    text.match_indices(c).any(|(i, _)| {
                        let before = text[..i].chars().next_back();
                        let after = text[i + c.len()..].chars().next();
                        let ident = |ch: Option<char>| {
                            ch.is_some_and(|ch| ch.is_alphanumeric() || ch == '_')
                        };
                        !ident(before) && !ident(after)
                    })
                });
                literal || by_name || r.stage == Stage::Graph
            });
            assert!(
                used,
                "{} is registered but nothing in src/ reports it",
                r.code
            );
        }
    }

    /// `docs/rules.md` holds the registry section as generated; with
    /// `RESTOREPLAN_UPDATE_DOCS=1` the test writes it.
    #[test]
    fn registry_section_of_rules_md_is_generated() {
        let path = root().join("docs/rules.md");
        let doc = std::fs::read_to_string(&path).expect("docs/rules.md exists");
        let start = doc
            .find(BEGIN)
            .expect("docs/rules.md has the registry:begin marker");
        let end = doc
            .find(END)
            .expect("docs/rules.md has the registry:end marker");
        let body = &doc[start + BEGIN.len()..end];
        for r in REGISTRY {
            if matches!(r.stage, Stage::Static | Stage::Graph | Stage::Selector) {
                let url = crate::diag::rule_url(r.code);
                let anchor = url.split('#').nth(1).unwrap_or_default();
                assert!(
                    doc.contains(&format!("<a id=\"{anchor}\"></a>")),
                    "docs/rules.md has no section for {}",
                    r.code
                );
            }
        }
        let want = registry_markdown();
        if body != want {
            if std::env::var_os("RESTOREPLAN_UPDATE_DOCS").is_some() {
                let new = format!("{}{BEGIN}{want}{}", &doc[..start], &doc[end..]);
                std::fs::write(&path, new).expect("write docs/rules.md");
            } else {
                panic!(
                    "the registry section of docs/rules.md is stale: run `RESTOREPLAN_UPDATE_DOCS=1 cargo test --lib registry`"
                );
            }
        }
    }
}
