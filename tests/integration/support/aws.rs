//! Real SDK clients against the emulator, acting in one account and Region,
//! for seeding scenarios through AWS APIs only.

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;

use super::emulator::Emulator;

/// SDK clients for one account and Region.
pub struct Aws {
    /// KMS.
    pub kms: aws_sdk_kms::Client,
    /// AWS Backup.
    pub backup: aws_sdk_backup::Client,
    /// DynamoDB.
    pub ddb: aws_sdk_dynamodb::Client,
    /// The account.
    pub account: String,
    /// The Region.
    pub region: String,
    /// The configuration the clients share (for clients of other services).
    pub conf: aws_config::SdkConfig,
}

/// Static credentials the emulator maps to its default account; every
/// test then assumes a role into its own accounts.
pub fn base_credentials() -> Credentials {
    Credentials::new("test", "test", None, None, "restoreplan-tests")
}

impl Aws {
    /// Clients acting in `account` (through STS AssumeRole) in `region`.
    pub async fn new(em: &Emulator, account: &str, region: &str) -> Aws {
        let base = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&em.endpoint)
            .region(Region::new(region.to_owned()))
            .credentials_provider(base_credentials())
            .http_client(restoreplan::aws::http_client())
            .load()
            .await;
        let sts = aws_sdk_sts::Client::new(&base);
        let out = sts
            .assume_role()
            .role_arn(Emulator::role(account))
            .role_session_name("seed")
            .send()
            .await
            .expect("AssumeRole against the emulator");
        let c = out.credentials().expect("AssumeRole returns credentials");
        let creds = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "assumed",
        );
        let conf = base
            .into_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(creds),
            )
            .build();
        Aws {
            kms: aws_sdk_kms::Client::new(&conf),
            backup: aws_sdk_backup::Client::new(&conf),
            ddb: aws_sdk_dynamodb::Client::new(&conf),
            account: account.to_owned(),
            region: region.to_owned(),
            conf,
        }
    }

    /// Creates a table `name` (hash key `pk`, one GSI `by-user`), optionally
    /// encrypted with `key` (`Some("alias/aws/dynamodb")` for the AWS-managed
    /// key), with `items` items. Returns its ARN.
    pub async fn table(&self, name: &str, key: Option<&str>, items: usize) -> String {
        self.table_indexed(name, key, items, "user").await
    }

    /// [`Aws::table`] with the GSI on attribute `indexed` (named
    /// `by-{indexed}`) instead of `user`.
    pub async fn table_indexed(
        &self,
        name: &str,
        key: Option<&str>,
        items: usize,
        indexed: &str,
    ) -> String {
        use aws_sdk_dynamodb::types::*;
        let mut req = self
            .ddb
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(indexed)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("pk")
                    .key_type(KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(format!("by-{indexed}"))
                    .key_schema(
                        KeySchemaElement::builder()
                            .attribute_name(indexed)
                            .key_type(KeyType::Hash)
                            .build()
                            .unwrap(),
                    )
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .unwrap(),
            );
        if let Some(k) = key {
            let mut sse = SseSpecification::builder()
                .enabled(true)
                .sse_type(SseType::Kms);
            if k != "alias/aws/dynamodb" {
                sse = sse.kms_master_key_id(k);
            }
            req = req.sse_specification(sse.build());
        }
        let out = req.send().await.expect("CreateTable");
        for i in 0..items {
            self.ddb
                .put_item()
                .table_name(name)
                .item("pk", AttributeValue::S(format!("k{i}")))
                .item(indexed, AttributeValue::S(format!("u{}", i % 7)))
                .send()
                .await
                .expect("PutItem");
        }
        out.table_description()
            .and_then(|t| t.table_arn())
            .expect("table ARN")
            .to_owned()
    }

    /// Creates a symmetric key (multi-Region when asked) and returns its ARN.
    pub async fn key(&self, multi_region: bool) -> String {
        let out = self
            .kms
            .create_key()
            .multi_region(multi_region)
            .send()
            .await
            .expect("CreateKey");
        out.key_metadata()
            .and_then(|m| m.arn())
            .expect("key ARN")
            .to_owned()
    }

    /// Replicates a multi-Region key into `region` (called in the primary's
    /// Region); returns the replica ARN.
    pub async fn replicate(&self, key_arn: &str, region: &str) -> String {
        let out = self
            .kms
            .replicate_key()
            .key_id(key_arn)
            .replica_region(region)
            .send()
            .await
            .expect("ReplicateKey");
        out.replica_key_metadata()
            .and_then(|m| m.arn())
            .expect("replica ARN")
            .to_owned()
    }

    /// Puts a key policy that shares `key_arn` with `account` for DynamoDB.
    pub async fn share_key(&self, key_arn: &str, account: &str) {
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "owner", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{}:root", self.account)}, "Action": "kms:*", "Resource": "*"},
                {"Sid": "dr", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                 "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:CreateGrant", "kms:DescribeKey"], "Resource": "*"}
            ]
        });
        self.kms
            .put_key_policy()
            .key_id(key_arn)
            .policy_name("default")
            .policy(policy.to_string())
            .send()
            .await
            .expect("PutKeyPolicy");
    }

    /// Gives the key `key_arn` the alias `alias` (`alias/…`).
    pub async fn alias(&self, alias: &str, key_arn: &str) {
        self.kms
            .create_alias()
            .alias_name(alias)
            .target_key_id(key_arn)
            .send()
            .await
            .expect("CreateAlias");
    }

    /// Takes a DynamoDB on-demand backup of `table`; returns its ARN.
    pub async fn on_demand_backup(&self, table: &str) -> String {
        let out = self
            .ddb
            .create_backup()
            .table_name(table)
            .backup_name(format!("{table}-backup"))
            .send()
            .await
            .expect("CreateBackup");
        out.backup_details()
            .map(|d| d.backup_arn().to_owned())
            .expect("backup ARN")
    }

    /// Turns point-in-time recovery on for `table`.
    pub async fn enable_pitr(&self, table: &str) {
        use aws_sdk_dynamodb::types::PointInTimeRecoverySpecification;
        self.ddb
            .update_continuous_backups()
            .table_name(table)
            .point_in_time_recovery_specification(
                PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(true)
                    .build()
                    .expect("pitr spec"),
            )
            .send()
            .await
            .expect("UpdateContinuousBackups");
    }

    /// Turns time to live on for `table` on `attribute`.
    pub async fn enable_ttl(&self, table: &str, attribute: &str) {
        use aws_sdk_dynamodb::types::TimeToLiveSpecification;
        self.ddb
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(attribute)
                    .enabled(true)
                    .build()
                    .expect("ttl spec"),
            )
            .send()
            .await
            .expect("UpdateTimeToLive");
    }

    /// Turns a stream of `view` images on for `table`.
    pub async fn enable_stream(&self, table: &str, view: aws_sdk_dynamodb::types::StreamViewType) {
        use aws_sdk_dynamodb::types::StreamSpecification;
        self.ddb
            .update_table()
            .table_name(table)
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(view)
                    .build()
                    .expect("stream spec"),
            )
            .send()
            .await
            .expect("UpdateTable stream");
    }

    /// Creates a vault.
    pub async fn vault(&self, name: &str) {
        self.backup
            .create_backup_vault()
            .backup_vault_name(name)
            .send()
            .await
            .expect("CreateBackupVault");
    }

    /// Backs `table_arn` up into `vault` and waits for the job; returns the recovery point ARN.
    pub async fn backup(&self, vault: &str, table_arn: &str) -> String {
        let out = self
            .backup
            .start_backup_job()
            .backup_vault_name(vault)
            .resource_arn(table_arn)
            .iam_role_arn(format!(
                "arn:aws:iam::{}:role/service-role/AWSBackupDefaultServiceRole",
                self.account
            ))
            .send()
            .await
            .expect("StartBackupJob");
        let id = out.backup_job_id().expect("backup job id").to_owned();
        for _ in 0..600 {
            let j = self
                .backup
                .describe_backup_job()
                .backup_job_id(&id)
                .send()
                .await
                .expect("DescribeBackupJob");
            match j.state().map(|s| s.as_str()) {
                Some("COMPLETED") => {
                    return j.recovery_point_arn().expect("recovery point").to_owned();
                }
                Some("FAILED") | Some("ABORTED") | Some("EXPIRED") => {
                    panic!("backup job ended {:?}: {:?}", j.state(), j.status_message())
                }
                _ => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
        panic!("backup job {id} did not finish");
    }

    /// Copies a recovery point from `vault` here into `dest_vault_arn`; returns the copy's ARN.
    pub async fn copy(&self, vault: &str, rp_arn: &str, dest_vault_arn: &str) -> String {
        let out = self
            .backup
            .start_copy_job()
            .source_backup_vault_name(vault)
            .recovery_point_arn(rp_arn)
            .destination_backup_vault_arn(dest_vault_arn)
            .iam_role_arn(format!(
                "arn:aws:iam::{}:role/service-role/AWSBackupDefaultServiceRole",
                self.account
            ))
            .send()
            .await
            .expect("StartCopyJob");
        let id = out.copy_job_id().expect("copy job id").to_owned();
        for _ in 0..600 {
            let j = self
                .backup
                .describe_copy_job()
                .copy_job_id(&id)
                .send()
                .await
                .expect("DescribeCopyJob");
            let job = j.copy_job().expect("copy job");
            match job.state().map(|s| s.as_str()) {
                Some("COMPLETED") => {
                    return job
                        .destination_recovery_point_arn()
                        .expect("copy ARN")
                        .to_owned();
                }
                Some("FAILED") => panic!("copy job failed: {:?}", job.status_message()),
                _ => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
        panic!("copy job {id} did not finish");
    }

    /// The vault ARN of `name` here.
    pub fn vault_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:backup:{}:{}:backup-vault:{name}",
            self.region, self.account
        )
    }
}
