//! Reading a KMS key policy: does it let another account use the key for DynamoDB?
//!
//! A deliberately small evaluator: `Allow` and `Deny` statements, `Principal`
//! as `*`, an account id, or `arn:aws:iam::ACCOUNT:…`, and `Action` globs.
//! Conditions on the caller's account (`aws:PrincipalAccount`,
//! `kms:CallerAccount`) are evaluated as IAM does with the string operators
//! (`StringEquals`, `StringNotEquals`, their `IgnoreCase` forms, `StringLike`,
//! `StringNotLike`, with `…IfExists` and `ForAnyValue:`/`ForAllValues:`), so a
//! `Deny` of another account does not count against this one and an `Allow`
//! of another account does not count for it. Other conditions are not
//! evaluated; a statement that applies only if they hold is reported so the
//! evidence says that the answer depends on them.

use serde_json::Value;

/// Actions DynamoDB needs on a key shared with the restoring account, as
/// `(as written in docs, concrete actions that must all be allowed)`.
pub const REQUIRED_ACTIONS: &[(&str, &[&str])] = &[
    ("kms:Decrypt", &["kms:Decrypt"]),
    ("kms:Encrypt", &["kms:Encrypt"]),
    (
        "kms:GenerateDataKey*",
        &["kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"],
    ),
    ("kms:ReEncrypt*", &["kms:ReEncryptFrom", "kms:ReEncryptTo"]),
    ("kms:CreateGrant", &["kms:CreateGrant"]),
    ("kms:DescribeKey", &["kms:DescribeKey"]),
];

/// What a key policy grants an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVerdict {
    /// Required actions (as written in [`REQUIRED_ACTIONS`]) not granted.
    pub missing: Vec<&'static str>,
    /// True when a matching statement carries a `Condition` that was not evaluated.
    pub conditional: bool,
}

/// Evaluates `policy` (JSON text) for `account`. `Err` when it is not JSON.
pub fn grants(policy: &str, account: &str) -> Result<PolicyVerdict, String> {
    let doc: Value =
        serde_json::from_str(policy).map_err(|e| format!("the key policy is not JSON: {e}"))?;
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    };
    let mut conditional = false;
    let mut missing = Vec::new();
    for (shown, concrete) in REQUIRED_ACTIONS {
        let ok = concrete.iter().all(|action| {
            let mut allowed = false;
            for st in &statements {
                if !principal_matches(st.get("Principal"), account) {
                    continue;
                }
                if !strings(st.get("Action")).iter().any(|p| glob(p, action)) {
                    continue;
                }
                let applies = conditions(st.get("Condition"), account);
                match (st.get("Effect").and_then(Value::as_str), applies) {
                    (_, Applies::No) => {}
                    (Some("Deny"), Applies::Yes) => return false,
                    // A deny that applies only if conditions not evaluated
                    // here hold: not counted, but the answer depends on it.
                    (Some("Deny"), Applies::Unknown) => conditional = true,
                    (Some("Allow"), a) => {
                        if a == Applies::Unknown {
                            conditional = true;
                        }
                        allowed = true;
                    }
                    _ => {}
                }
            }
            allowed
        });
        if !ok {
            missing.push(*shown);
        }
    }
    Ok(PolicyVerdict {
        missing,
        conditional,
    })
}

/// What a resource policy says about one action by one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionVerdict {
    /// An `Allow` statement matches and no `Deny` statement does.
    pub allowed: bool,
    /// A `Deny` statement matches (it wins over every `Allow`).
    pub denied: bool,
    /// A matching statement carries a `Condition` that was not evaluated.
    pub conditional: bool,
}

/// Evaluates a resource policy (JSON text, e.g. an AWS Backup vault access
/// policy) for `action` by a caller of `account`: `Allow` statements whose
/// `Principal` is the account, its root or another of its ARNs, or `*`,
/// and whose `Action` (globs allowed) matches, minus matching `Deny`
/// statements. `Err` when it is not JSON.
pub fn allows(policy: &str, action: &str, account: &str) -> Result<ActionVerdict, String> {
    let doc: Value =
        serde_json::from_str(policy).map_err(|e| format!("the policy is not JSON: {e}"))?;
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    };
    let mut verdict = ActionVerdict {
        allowed: false,
        denied: false,
        conditional: false,
    };
    for st in statements {
        if !principal_matches(st.get("Principal"), account)
            || !strings(st.get("Action")).iter().any(|p| glob(p, action))
        {
            continue;
        }
        match (
            st.get("Effect").and_then(Value::as_str),
            conditions(st.get("Condition"), account),
        ) {
            (_, Applies::No) => {}
            (Some("Deny"), Applies::Yes) => verdict.denied = true,
            (Some("Deny"), Applies::Unknown) => verdict.conditional = true,
            (Some("Allow"), a) => {
                verdict.conditional |= a == Applies::Unknown;
                verdict.allowed = true;
            }
            _ => {}
        }
    }
    verdict.allowed &= !verdict.denied;
    Ok(verdict)
}

/// Whether a statement's `Condition` holds for a caller of `account`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applies {
    /// Every condition holds (or there is none).
    Yes,
    /// A condition on the caller's account does not hold.
    No,
    /// The account conditions hold, but others were not evaluated.
    Unknown,
}

/// Condition keys whose value is the calling principal's account.
const ACCOUNT_KEYS: &[&str] = &["aws:principalaccount", "kms:calleraccount"];

fn conditions(condition: Option<&Value>, account: &str) -> Applies {
    let Some(Value::Object(operators)) = condition else {
        return if condition.is_some_and(|c| !c.is_null()) {
            Applies::Unknown
        } else {
            Applies::Yes
        };
    };
    let mut applies = Applies::Yes;
    for (operator, clauses) in operators {
        let Value::Object(clauses) = clauses else {
            applies = Applies::Unknown;
            continue;
        };
        for (key, values) in clauses {
            let evaluated = ACCOUNT_KEYS
                .contains(&key.to_ascii_lowercase().as_str())
                .then(|| account_condition(operator, &strings(Some(values)), account))
                .flatten();
            match evaluated {
                Some(false) => return Applies::No,
                Some(true) => {}
                None => applies = Applies::Unknown,
            }
        }
    }
    applies
}

/// Evaluates a string condition operator on the caller's account; `None`
/// for operators that are not string operators. The account keys are
/// single-valued, so the `ForAnyValue:`/`ForAllValues:` qualifiers change
/// nothing, and they are always present, so `…IfExists` changes nothing.
pub fn account_condition(operator: &str, values: &[&str], account: &str) -> Option<bool> {
    let op = operator
        .strip_prefix("ForAnyValue:")
        .or_else(|| operator.strip_prefix("ForAllValues:"))
        .unwrap_or(operator);
    let op = op.strip_suffix("IfExists").unwrap_or(op);
    let (negated, base) = match op.strip_prefix("StringNot") {
        Some(rest) => (true, rest),
        None => (false, op.strip_prefix("String")?),
    };
    let hit = match base {
        "Equals" => values.contains(&account),
        "EqualsIgnoreCase" => values.iter().any(|v| v.eq_ignore_ascii_case(account)),
        "Like" => values.iter().any(|v| like(v, account)),
        _ => return None,
    };
    Some(hit != negated)
}

/// `StringLike`: `*` and `?` wildcards, case-sensitive.
fn like(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn principal_matches(p: Option<&Value>, account: &str) -> bool {
    let candidates: Vec<&str> = match p {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Object(o)) => strings(o.get("AWS")),
        _ => Vec::new(),
    };
    candidates.iter().any(|c| {
        *c == "*"
            || *c == account
            || c.strip_prefix("arn:aws:iam::")
                .and_then(|rest| rest.split(':').next())
                .is_some_and(|a| a == account)
    })
}

/// Case-insensitive glob with `*` and `?`, as IAM matches action names.
pub fn glob(pattern: &str, text: &str) -> bool {
    like(&pattern.to_ascii_lowercase(), &text.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHARED: &str = r#"{"Version":"2012-10-17","Statement":[
      {"Sid":"owner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},
      {"Sid":"dr","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root"]},
       "Action":["kms:Decrypt","kms:Encrypt","kms:GenerateDataKey*","kms:ReEncrypt*","kms:CreateGrant","kms:DescribeKey"],"Resource":"*"}]}"#;

    #[test]
    fn a_shared_key_grants_every_required_action() {
        let v = grants(SHARED, "444455556666").expect("valid JSON");
        assert!(v.missing.is_empty(), "{v:?}");
        assert!(!v.conditional);
    }

    #[test]
    fn an_unshared_account_misses_everything() {
        let v = grants(SHARED, "999999999999").expect("valid JSON");
        assert_eq!(v.missing.len(), REQUIRED_ACTIONS.len());
    }

    #[test]
    fn a_partial_grant_names_what_is_missing() {
        let p = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":["kms:Decrypt","kms:DescribeKey"]}}"#;
        let v = grants(p, "444455556666").expect("valid JSON");
        assert_eq!(
            v.missing,
            vec![
                "kms:Encrypt",
                "kms:GenerateDataKey*",
                "kms:ReEncrypt*",
                "kms:CreateGrant"
            ]
        );
    }

    #[test]
    fn an_unconditional_deny_wins() {
        let p = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*"},
          {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"kms:CreateGrant"}]}"#;
        let v = grants(p, "444455556666").expect("valid JSON");
        assert_eq!(v.missing, vec!["kms:CreateGrant"]);
    }

    #[test]
    fn globs_match_like_iam() {
        assert!(glob("kms:*", "kms:Decrypt"));
        assert!(glob(
            "KMS:generatedatakey*",
            "kms:GenerateDataKeyWithoutPlaintext"
        ));
        assert!(glob("*", "kms:Encrypt"));
        assert!(!glob("kms:Re*To", "kms:ReEncryptFrom"));
        assert!(glob("kms:Re?ncrypt*", "kms:ReEncryptTo"));
    }

    /// A key shared with 444455556666, plus one more statement.
    fn shared_and(extra: &str) -> String {
        let end = SHARED.rfind("]}").expect("a statement list");
        format!("{},{extra}]}}", &SHARED[..end])
    }

    #[test]
    fn a_deny_of_another_principal_account_does_not_deny_this_one() {
        for condition in [
            r#"{"StringEquals":{"aws:PrincipalAccount":"999988887777"}}"#,
            r#"{"StringEquals":{"aws:PrincipalAccount":["999988887777","111100001111"]}}"#,
            r#"{"StringLike":{"aws:PrincipalAccount":"9999*"}}"#,
            r#"{"StringEqualsIgnoreCase":{"kms:CallerAccount":"999988887777"}}"#,
            r#"{"StringNotEquals":{"aws:PrincipalAccount":["111122223333","444455556666"]}}"#,
            r#"{"StringNotLike":{"aws:PrincipalAccount":["1111*","4444*"]}}"#,
        ] {
            let p = shared_and(&format!(
                r#"{{"Effect":"Deny","Principal":"*","Action":"kms:*","Condition":{condition}}}"#
            ));
            let v = grants(&p, "444455556666").expect("valid JSON");
            assert!(v.missing.is_empty(), "{condition}: {v:?}");
            assert!(!v.conditional, "{condition}: evaluated, not unknown");
        }
    }

    #[test]
    fn a_deny_whose_account_condition_holds_denies() {
        for condition in [
            r#"{"StringEquals":{"aws:PrincipalAccount":"444455556666"}}"#,
            r#"{"StringNotEquals":{"aws:PrincipalAccount":"111122223333"}}"#,
            r#"{"StringLike":{"kms:CallerAccount":"4444*"}}"#,
            r#"{"ForAnyValue:StringEquals":{"aws:PrincipalAccount":["444455556666"]}}"#,
            r#"{"StringNotEqualsIfExists":{"aws:PrincipalAccount":["111122223333"]}}"#,
        ] {
            let p = shared_and(&format!(
                r#"{{"Effect":"Deny","Principal":"*","Action":"kms:CreateGrant","Condition":{condition}}}"#
            ));
            let v = grants(&p, "444455556666").expect("valid JSON");
            assert_eq!(v.missing, vec!["kms:CreateGrant"], "{condition}");
        }
    }

    #[test]
    fn an_allow_for_another_account_does_not_allow_this_one() {
        let p = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*",
          "Condition":{"StringEquals":{"kms:CallerAccount":"999988887777"}}}]}"#;
        let v = grants(p, "444455556666").expect("valid JSON");
        assert_eq!(v.missing.len(), REQUIRED_ACTIONS.len());
        let v = grants(p, "999988887777").expect("valid JSON");
        assert!(v.missing.is_empty() && !v.conditional, "{v:?}");
    }

    #[test]
    fn conditions_not_evaluated_are_reported() {
        let p = shared_and(
            r#"{"Effect":"Deny","Principal":"*","Action":"kms:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#,
        );
        let v = grants(&p, "444455556666").expect("valid JSON");
        assert!(v.missing.is_empty());
        assert!(v.conditional);
    }

    const VAULT: &str = r#"{"Version":"2012-10-17","Statement":[
      {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"backup:CopyIntoBackupVault","Resource":"*"}]}"#;

    #[test]
    fn a_vault_policy_admits_the_named_account_only() {
        let v = allows(VAULT, "backup:CopyIntoBackupVault", "111122223333").unwrap();
        assert!(v.allowed && !v.denied && !v.conditional);
        let other = allows(VAULT, "backup:CopyIntoBackupVault", "999988887777").unwrap();
        assert!(!other.allowed);
        let action = allows(VAULT, "backup:DeleteRecoveryPoint", "111122223333").unwrap();
        assert!(!action.allowed);
    }

    #[test]
    fn vault_policy_principals_and_action_globs() {
        let policy = |principal: &str, action: &str| {
            format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":{principal},"Action":{action},"Resource":"*"}}]}}"#
            )
        };
        for (principal, action) in [
            (r#""*""#, r#""backup:*""#),
            (r#"{"AWS":"*"}"#, r#""backup:CopyInto*""#),
            (
                r#"{"AWS":"111122223333"}"#,
                r#"["s3:GetObject","backup:copyintobackupvault"]"#,
            ),
            (
                r#"{"AWS":["arn:aws:iam::999988887777:root","arn:aws:iam::111122223333:role/x"]}"#,
                r#""*""#,
            ),
        ] {
            let p = policy(principal, action);
            assert!(
                allows(&p, "backup:CopyIntoBackupVault", "111122223333")
                    .unwrap()
                    .allowed,
                "{p}"
            );
        }
        let p = policy(r#"{"AWS":"999988887777"}"#, r#""backup:*""#);
        assert!(
            !allows(&p, "backup:CopyIntoBackupVault", "111122223333")
                .unwrap()
                .allowed
        );
    }

    #[test]
    fn a_vault_deny_wins_over_an_allow() {
        let p = r#"{"Statement":[
          {"Effect":"Allow","Principal":"*","Action":"backup:*","Resource":"*"},
          {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"backup:CopyIntoBackupVault","Resource":"*"}]}"#;
        let v = allows(p, "backup:CopyIntoBackupVault", "111122223333").unwrap();
        assert!(v.denied && !v.allowed);
        assert!(
            allows(p, "backup:CopyIntoBackupVault", "444455556666")
                .unwrap()
                .allowed
        );
        assert!(allows("nope", "backup:CopyIntoBackupVault", "1").is_err());
    }

    #[test]
    fn bad_json_is_an_error() {
        assert!(grants("not json", "1").is_err());
    }
}
