//! What a plan resolves to, independent of its text: a digest of the
//! settings and one per restore. Comments, formatting, key order and a move
//! of the file leave it unchanged; any change to what a run would do
//! changes it, and [`changes`] says where.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::plan::model::Plan;

/// Digests of a compiled plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Name, objectives, execution settings and keys.
    pub settings: String,
    /// Each restore's id and digest, in plan order.
    pub restores: Vec<(String, String)>,
}

/// The fingerprint of `plan`.
pub fn of(plan: &Plan) -> Fingerprint {
    let settings = digest(serde_json::to_value(plan.header()).unwrap_or_default());
    let restores = plan
        .restores()
        .iter()
        .map(|r| {
            (
                r.id.clone(),
                digest(serde_json::to_value(r).unwrap_or_default()),
            )
        })
        .collect();
    Fingerprint { settings, restores }
}

/// Source positions are not part of what a plan does.
fn strip_positions(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.remove("spans");
            map.remove("span");
            map.values_mut().for_each(strip_positions);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_positions),
        _ => {}
    }
}

fn digest(mut v: Value) -> String {
    strip_positions(&mut v);
    hex::encode(Sha256::digest(v.to_string().as_bytes()))
}

/// What differs between the fingerprint a run recorded and the plan now,
/// one phrase per difference; empty when they resolve alike.
pub fn changes(was: &Fingerprint, now: &Fingerprint) -> Vec<String> {
    let mut out = Vec::new();
    if was.settings != now.settings {
        out.push("the plan's settings (name, objectives, execution or keys) changed".to_owned());
    }
    let find = |list: &[(String, String)], id: &str| {
        list.iter().find(|(i, _)| i == id).map(|(_, d)| d.clone())
    };
    for (id, d) in &was.restores {
        match find(&now.restores, id) {
            None => out.push(format!("restore `{id}` was removed")),
            Some(n) if &n != d => out.push(format!("restore `{id}` changed")),
            Some(_) => {}
        }
    }
    for (id, _) in &now.restores {
        if find(&was.restores, id).is_none() {
            out.push(format!("restore `{id}` was added"));
        }
    }
    let order = |l: &[(String, String)]| l.iter().map(|(i, _)| i.clone()).collect::<Vec<_>>();
    if out.is_empty() && order(&was.restores) != order(&now.restores) {
        out.push("the restores are in another order".to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{CompileOptions, SourceFile, compile};

    fn fp(text: &str) -> Fingerprint {
        let opts =
            CompileOptions::new(chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default());
        let loaded = compile(SourceFile::new("p.yaml", text), &opts).expect("the plan compiles");
        of(&loaded.plan)
    }

    const PLAN: &str = "version: 1\nname: demo\nsource: { account: \"111122223333\", region: us-east-1 }\n\
        target: { account: \"111122223333\", region: us-west-2, vault: dr, role: \"arn:aws:iam::111122223333:role/r\" }\n\
        restores:\n  - table: orders\n  - table: users\n    depends_on: [orders]\n";

    #[test]
    fn comments_and_formatting_do_not_count() {
        let edited = "# reviewed\nversion: 1\nname: demo   # the name\n\
            source:\n  account: \"111122223333\"\n  region: us-east-1\n\
            target: { region: us-west-2, account: \"111122223333\", vault: dr, role: \"arn:aws:iam::111122223333:role/r\" }\n\n\
            restores:\n  - table: orders\n\n  - table: users\n    depends_on: [ orders ]\n";
        assert_eq!(changes(&fp(PLAN), &fp(edited)), Vec::<String>::new());
    }

    #[test]
    fn real_changes_are_named() {
        let edited = PLAN.replace(
            "  - table: users\n    depends_on: [orders]\n",
            "  - table: users\n  - table: carts\n",
        );
        assert_eq!(
            changes(&fp(PLAN), &fp(&edited)),
            vec![
                "restore `users` changed".to_owned(),
                "restore `carts` was added".to_owned()
            ]
        );
    }
}
