//! Reading a KMS key policy: does it let another account use the key for DynamoDB?
//!
//! A deliberately small evaluator: `Allow` and `Deny` statements, `Principal`
//! as `*`, an account id, or `arn:aws:iam::ACCOUNT:…`, and `Action` globs.
//! Conditions are not evaluated; a statement with a condition is reported
//! so the evidence says that the answer depends on it.

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
                match st.get("Effect").and_then(Value::as_str) {
                    Some("Deny") if st.get("Condition").is_none() => return false,
                    Some("Allow") => {
                        if st.get("Condition").is_some() {
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
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let t: Vec<char> = text.to_ascii_lowercase().chars().collect();
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

    #[test]
    fn bad_json_is_an_error() {
        assert!(grants("not json", "1").is_err());
    }
}
