use super::rules::unknown_indexes;
use super::*;
use crate::diag::Severity;

/// One original table whose key DescribeKey reports as `manager`;
/// nothing else exists.
struct OneTable {
    manager: KeyManager,
}

const KEY: &str = "arn:aws:kms:eu-west-1:210987654321:key/0d1e2f30-4a5b-6c7d-8e9f-a0b1c2d3e4f5";

fn absent(operation: &str) -> CloudError {
    CloudError::new(ErrorKind::NotFound, operation, "NotFound", "not here")
}

#[async_trait::async_trait]
impl CloudRead for OneTable {
    async fn identity(&self, account: &AccountId) -> crate::cloud::CloudResult<Identity> {
        Ok(Identity {
            account: account.to_string(),
            arn: format!("arn:aws:iam::{account}:role/test"),
            source: "test".into(),
        })
    }
    async fn describe_key(&self, _: &Scope, key: &str) -> crate::cloud::CloudResult<KeyFacts> {
        if key != KEY {
            return Err(absent("DescribeKey"));
        }
        Ok(KeyFacts {
            arn: KEY.into(),
            account: "210987654321".into(),
            region: "eu-west-1".into(),
            state: "Enabled".into(),
            spec: "SYMMETRIC_DEFAULT".into(),
            usage: "ENCRYPT_DECRYPT".into(),
            manager: self.manager,
            multi_region: None,
        })
    }
    async fn key_policy(&self, _: &Scope, _: &str) -> crate::cloud::CloudResult<Option<String>> {
        Ok(None)
    }
    async fn probe_key(
        &self,
        _: &Scope,
        _: &str,
        _: KeyOperation,
    ) -> crate::cloud::CloudResult<ProbeOutcome> {
        Ok(ProbeOutcome::Allowed)
    }
    async fn vault_recovery_points(
        &self,
        _: &Scope,
        _: &str,
        _: &str,
    ) -> crate::cloud::CloudResult<Vec<RecoveryPoint>> {
        Ok(Vec::new())
    }
    async fn describe_recovery_point(
        &self,
        _: &Scope,
        _: &str,
        _: &str,
    ) -> crate::cloud::CloudResult<RecoveryPoint> {
        Err(absent("DescribeRecoveryPoint"))
    }
    async fn table_backups(
        &self,
        _: &Scope,
        _: &str,
    ) -> crate::cloud::CloudResult<Vec<RecoveryPoint>> {
        Ok(Vec::new())
    }
    async fn describe_backup(
        &self,
        _: &Scope,
        _: &str,
    ) -> crate::cloud::CloudResult<RecoveryPoint> {
        Err(absent("DescribeBackup"))
    }
    async fn describe_table(
        &self,
        _: &Scope,
        name: &str,
    ) -> crate::cloud::CloudResult<Option<TableFacts>> {
        Ok((name == "orders").then(|| TableFacts {
            arn: "arn:aws:dynamodb:eu-west-1:210987654321:table/orders".into(),
            name: "orders".into(),
            status: "ACTIVE".into(),
            item_count: None,
            size_bytes: None,
            encryption: TableEncryption::Customer {
                key_arn: KEY.into(),
            },
            indexes: Vec::new(),
            stream: None,
            deletion_protection: false,
            restore_in_progress: false,
            origin: Default::default(),
            table_id: None,
            capacity: Default::default(),
        }))
    }
    async fn describe_pitr(&self, _: &Scope, _: &str) -> crate::cloud::CloudResult<PitrFacts> {
        Err(absent("DescribeContinuousBackups"))
    }
    async fn describe_ttl(
        &self,
        _: &Scope,
        _: &str,
    ) -> crate::cloud::CloudResult<crate::cloud::TtlFacts> {
        Err(absent("DescribeTimeToLive"))
    }
    async fn table_tags(
        &self,
        _: &Scope,
        _: &str,
    ) -> crate::cloud::CloudResult<BTreeMap<String, String>> {
        Ok(BTreeMap::new())
    }
    async fn describe_restore_job(
        &self,
        _: &Scope,
        _: &str,
    ) -> crate::cloud::CloudResult<crate::cloud::RestoreJob> {
        Err(absent("DescribeRestoreJob"))
    }
}

/// The original's encryption as the live check saw it.
async fn original_encryption(manager: KeyManager) -> Option<TableEncryption> {
    let text = "version: 1\nname: x\nsource: { account: \"210987654321\", region: eu-west-1 }\n\
                restores:\n  - table: orders\n    name: orders-copy\n";
    let opts = crate::plan::CompileOptions::new(
        chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default(),
    );
    let loaded = crate::plan::compile(crate::plan::source::SourceFile::new("p.yaml", text), &opts)
        .unwrap_or_else(|e| panic!("the plan compiles: {e:?}"));
    let report = check(&loaded.plan, &OneTable { manager }, &LiveOptions::default()).await;
    report.resolved[0]
        .source_table
        .as_ref()
        .map(|t| t.encryption.clone())
}

#[tokio::test]
async fn an_original_under_the_aws_managed_key_is_not_taken_for_a_customers_key() {
    // DynamoDB reports both kinds of key by ARN: KMS tells them apart.
    assert_eq!(
        original_encryption(KeyManager::Aws).await,
        Some(TableEncryption::Managed {
            key_arn: Some(KEY.into())
        })
    );
    assert_eq!(
        original_encryption(KeyManager::Customer).await,
        Some(TableEncryption::Customer {
            key_arn: KEY.into()
        })
    );
}

#[test]
fn an_index_the_recovery_point_lacks_is_a_warning_with_a_suggestion() {
    let text = "version: 1\nname: x\nsource: { account: \"210987654321\", region: eu-west-1 }\n\
                restores:\n  - table: orders\n    name: orders-copy\n    indexes: [by-usr, by-date]\n";
    let opts = crate::plan::CompileOptions::new(
        chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default(),
    );
    let loaded = crate::plan::compile(crate::plan::source::SourceFile::new("p.yaml", text), &opts)
        .unwrap_or_else(|e| panic!("the plan compiles: {e:?}"));
    let r = &loaded.plan.restores()[0];
    let ix = |name: &str| crate::cloud::IndexDef {
        name: name.into(),
        key_schema: vec![("user".into(), "HASH".into())],
        projection_type: "ALL".into(),
        non_key_attributes: Vec::new(),
    };
    let mut out = Out {
        restore: r,
        findings: Vec::new(),
    };
    let table = TableFacts {
        arn: String::new(),
        name: "orders".into(),
        status: "ACTIVE".into(),
        item_count: None,
        size_bytes: None,
        encryption: TableEncryption::Owned,
        indexes: vec![ix("by-user"), ix("by-date")],
        stream: None,
        deletion_protection: false,
        restore_in_progress: false,
        table_id: None,
        capacity: Default::default(),
        origin: Default::default(),
    };
    unknown_indexes(r, None, Some(&table), &mut out);
    assert_eq!(out.findings.len(), 1, "{:?}", out.findings);
    let f = &out.findings[0];
    assert_eq!(f.code, codes::UNKNOWN_INDEX);
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(f.help.as_deref(), Some("did you mean `by-user`?"));
    // Nothing known about the indexes: nothing to say.
    let mut quiet = Out {
        restore: r,
        findings: Vec::new(),
    };
    unknown_indexes(r, None, None, &mut quiet);
    assert!(quiet.findings.is_empty());
}
