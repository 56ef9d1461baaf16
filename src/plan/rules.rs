//! Stable codes of every static rule, and a registry of them.
//!
//! Codes are part of the user-facing contract: JSON output, GitHub
//! annotations and `docs/rules.md` anchors use them. Add codes; never rename
//! one. Graph rules are defined in [`crate::graph::codes`] and listed here too.

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
/// `verify.items.min` above `verify.items.max`, or no bound at all.
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

/// One rule: its code and what it checks, for listings and documentation tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The stable code.
    pub code: &'static str,
    /// One line: what the rule checks.
    pub summary: &'static str,
}

/// Every static rule, in documentation order.
pub const ALL: &[Rule] = &[
    Rule {
        code: INPUT_TOO_LARGE,
        summary: "the file is larger than the 8 MiB cap",
    },
    Rule {
        code: INPUT_NOT_UTF8,
        summary: "the file is not UTF-8 text",
    },
    Rule {
        code: YAML_SYNTAX,
        summary: "the text is not YAML",
    },
    Rule {
        code: YAML_LIMIT,
        summary: "nesting depth, node count or alias expansion over a hard limit",
    },
    Rule {
        code: YAML_DUPLICATE_KEY,
        summary: "a mapping repeats a key",
    },
    Rule {
        code: YAML_TAG,
        summary: "a YAML tag other than the core schema's",
    },
    Rule {
        code: YAML_MULTIPLE_DOCUMENTS,
        summary: "more than one YAML document",
    },
    Rule {
        code: YAML_EMPTY,
        summary: "no YAML document at all",
    },
    Rule {
        code: SCHEMA_UNKNOWN_KEY,
        summary: "a key the format does not define",
    },
    Rule {
        code: SCHEMA_MISSING_KEY,
        summary: "a required key is missing",
    },
    Rule {
        code: SCHEMA_WRONG_TYPE,
        summary: "a value of the wrong type",
    },
    Rule {
        code: SCHEMA_INVALID_VALUE,
        summary: "a value outside the allowed set",
    },
    Rule {
        code: PLAN_VERSION,
        summary: "`version` is not 1",
    },
    Rule {
        code: PLAN_INVALID_NAME,
        summary: "`name` does not match `^[a-z0-9][a-z0-9-]{0,62}$`",
    },
    Rule {
        code: PLAN_NO_RESTORES,
        summary: "`restores` is empty",
    },
    Rule {
        code: ACCOUNT_UNQUOTED,
        summary: "an account id written as a number",
    },
    Rule {
        code: ACCOUNT_INVALID,
        summary: "an account id that is not 12 digits",
    },
    Rule {
        code: REGION_INVALID,
        summary: "a Region that is not shaped like one",
    },
    Rule {
        code: LOCATION_MISSING,
        summary: "a restore's source or target account or Region is set nowhere",
    },
    Rule {
        code: DURATION_INVALID,
        summary: "a duration that is not `90m`, `24h`, `7d`, `30s`",
    },
    Rule {
        code: CONCURRENCY_RANGE,
        summary: "`execution.concurrency` outside 1..=1000",
    },
    Rule {
        code: CONCURRENCY_ABOVE_QUOTA,
        summary: "`execution.concurrency` above DynamoDB's 50 concurrent restores (warning)",
    },
    Rule {
        code: DUPLICATE_ID,
        summary: "two restores with the same id",
    },
    Rule {
        code: INVALID_ID,
        summary: "an id outside 1–255 of `[A-Za-z0-9_.-]`",
    },
    Rule {
        code: INVALID_TABLE_NAME,
        summary: "a table name (after template expansion) outside 3–255 of `[A-Za-z0-9_.-]`",
    },
    Rule {
        code: DUPLICATE_TARGET,
        summary: "two restores into the same account, Region and table name",
    },
    Rule {
        code: RESERVED_TAG,
        summary: "a tag key with a reserved prefix (`aws:`, `restoreplan:`)",
    },
    Rule {
        code: VERIFY_ITEMS_RANGE,
        summary: "`verify.items` whose `min` is above its `max`, or with no bound",
    },
    Rule {
        code: VERIFY_READ_FRACTION,
        summary: "`verify.max_read_fraction` outside (0, 1]",
    },
    Rule {
        code: VERIFY_COMMAND_EMPTY,
        summary: "`verify.command` that names no program",
    },
    Rule {
        code: VERIFY_KEY_EMPTY,
        summary: "a `verify.keys` entry that names no attribute",
    },
    Rule {
        code: OVERWRITES_SOURCE,
        summary: "a restore whose target is its own original table",
    },
    Rule {
        code: TEMPLATE_UNKNOWN_PLACEHOLDER,
        summary: "a placeholder other than `{table}`, `{plan}`, `{date}`",
    },
    Rule {
        code: TEMPLATE_MALFORMED,
        summary: "an unbalanced `{` or `}` in a template",
    },
    Rule {
        code: RECOVERY_POINT_MALFORMED_ARN,
        summary: "a recovery point ARN that is neither AWS Backup's nor DynamoDB's",
    },
    Rule {
        code: RECOVERY_POINT_ARN_LOCATION,
        summary: "a recovery point ARN in another account or Region than the restore runs in",
    },
    Rule {
        code: INVALID_TIMESTAMP,
        summary: "a timestamp that is not RFC 3339",
    },
    Rule {
        code: PITR_CROSS_ACCOUNT,
        summary: "a point-in-time restore into another account",
    },
    Rule {
        code: ROLE_REQUIRED,
        summary: "a restore through AWS Backup without `target.role`",
    },
    Rule {
        code: ROLE_MALFORMED,
        summary: "`target.role` that is not an IAM role ARN",
    },
    Rule {
        code: VAULT_INVALID,
        summary: "`target.vault` that is not a valid AWS Backup vault name",
    },
    Rule {
        code: KMS_MALFORMED_ARN,
        summary: "a key that is not a KMS key ARN or alias ARN",
    },
    Rule {
        code: KMS_MISSING_KEY,
        summary: "`customer-managed` encryption without `key`",
    },
    Rule {
        code: KMS_UNKNOWN_KEY,
        summary: "`key` names no entry of `keys`",
    },
    Rule {
        code: KMS_UNUSED_KEY,
        summary: "`key` with an encryption type that takes none",
    },
    Rule {
        code: graph::UNKNOWN_DEPENDENCY,
        summary: "`depends_on` names an unknown id",
    },
    Rule {
        code: graph::SELF_DEPENDENCY,
        summary: "a restore depends on itself",
    },
    Rule {
        code: graph::CYCLE,
        summary: "the dependencies form a cycle",
    },
];
