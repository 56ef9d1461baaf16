//! `restoreplan state init URL`: creates the bucket or table a backend
//! needs, with what it needs, and is idempotent (what exists is checked and
//! completed, never replaced).
//!
//! - S3: the bucket, versioning on (a deleted or overwritten record can be
//!   recovered), default encryption (SSE-S3) and every public-access block.
//! - DynamoDB: the table (`pk`, `sk` strings; on-demand), encryption with a
//!   KMS key, point-in-time recovery on and deletion protection on.

use aws_sdk_dynamodb::types as ddbt;
#[cfg(feature = "s3")]
use aws_sdk_s3::types as s3t;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::dynamodb::DynamoObjects;
#[cfg(feature = "s3")]
use super::s3::S3Objects;

/// Creates or completes the bucket; one line per thing done or found.
#[cfg(feature = "s3")]
pub fn s3(store: &S3Objects) -> Result<Vec<String>, String> {
    let client = store.client().clone();
    let loc = store.location().clone();
    store.run(async move {
        let mut done = Vec::new();
        let bucket = loc.bucket.clone();
        let mut create = client.create_bucket().bucket(&bucket);
        if loc.region.as_str() != "us-east-1" {
            create = create.create_bucket_configuration(
                s3t::CreateBucketConfiguration::builder()
                    .location_constraint(s3t::BucketLocationConstraint::from(
                        loc.region.as_str(),
                    ))
                    .build(),
            );
        }
        // Ask first: in us-east-1 CreateBucket answers 200 for a bucket the
        // caller already owns, so it cannot tell.
        let exists = match client.list_objects_v2().bucket(&bucket).max_keys(1).send().await {
            Ok(_) => true,
            Err(e) if e.code() == Some("NoSuchBucket") => false,
            Err(e) => {
                return Err(format!(
                    "ListObjectsV2 {bucket} failed (a bucket of another account has this name, or access is denied): {}",
                    DisplayErrorContext(&e)
                ));
            }
        };
        let created = if exists {
            Err(None)
        } else {
            create.send().await.map_err(Some)
        };
        match created {
            Err(None) => done.push(format!("bucket {bucket} exists (owned by this account)")),
            Ok(_) => done.push(format!("created bucket {bucket} in {}", loc.region)),
            Err(Some(e)) if e.code() == Some("BucketAlreadyOwnedByYou") => {
                done.push(format!("bucket {bucket} exists (owned by this account)"))
            }
            Err(Some(e)) => {
                return Err(format!(
                    "CreateBucket {bucket} failed: {}",
                    DisplayErrorContext(&e)
                ));
            }
        }
        client
            .put_bucket_versioning()
            .bucket(&bucket)
            .versioning_configuration(
                s3t::VersioningConfiguration::builder()
                    .status(s3t::BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| format!("PutBucketVersioning failed: {}", DisplayErrorContext(&e)))?;
        done.push("versioning: enabled".to_owned());
        let rule = s3t::ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(
                s3t::ServerSideEncryptionByDefault::builder()
                    .sse_algorithm(s3t::ServerSideEncryption::Aes256)
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .build();
        client
            .put_bucket_encryption()
            .bucket(&bucket)
            .server_side_encryption_configuration(
                s3t::ServerSideEncryptionConfiguration::builder()
                    .rules(rule)
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .send()
            .await
            .map_err(|e| format!("PutBucketEncryption failed: {}", DisplayErrorContext(&e)))?;
        done.push("default encryption: SSE-S3 (AES256)".to_owned());
        client
            .put_public_access_block()
            .bucket(&bucket)
            .public_access_block_configuration(
                s3t::PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| format!("PutPublicAccessBlock failed: {}", DisplayErrorContext(&e)))?;
        done.push("public access: blocked".to_owned());
        Ok(done)
    })?
}

/// Creates or completes the table; one line per thing done or found.
pub fn dynamodb(store: &DynamoObjects) -> Result<Vec<String>, String> {
    let client = store.client().clone();
    let table = store.location().table.clone();
    store.run(async move {
        let mut done = Vec::new();
        let attr = |n: &str| {
            ddbt::AttributeDefinition::builder()
                .attribute_name(n)
                .attribute_type(ddbt::ScalarAttributeType::S)
                .build()
        };
        let key = |n: &str, t: ddbt::KeyType| {
            ddbt::KeySchemaElement::builder()
                .attribute_name(n)
                .key_type(t)
                .build()
        };
        let created = client
            .create_table()
            .table_name(&table)
            .attribute_definitions(attr("pk").map_err(|e| e.to_string())?)
            .attribute_definitions(attr("sk").map_err(|e| e.to_string())?)
            .key_schema(key("pk", ddbt::KeyType::Hash).map_err(|e| e.to_string())?)
            .key_schema(key("sk", ddbt::KeyType::Range).map_err(|e| e.to_string())?)
            .billing_mode(ddbt::BillingMode::PayPerRequest)
            .sse_specification(
                ddbt::SseSpecification::builder()
                    .enabled(true)
                    .sse_type(ddbt::SseType::Kms)
                    .build(),
            )
            .deletion_protection_enabled(true)
            .send()
            .await;
        match created {
            Ok(_) => done.push(format!("created table {table}")),
            Err(e) if e.code() == Some("ResourceInUseException") => {
                done.push(format!("table {table} exists"))
            }
            Err(e) => {
                return Err(format!(
                    "CreateTable {table} failed: {}",
                    DisplayErrorContext(&e)
                ));
            }
        }
        // Wait for ACTIVE (PITR cannot be turned on before), then check
        // that an existing table has the key schema the backend writes.
        let mut desc = None;
        for _ in 0..600 {
            let out = client
                .describe_table()
                .table_name(&table)
                .send()
                .await
                .map_err(|e| format!("DescribeTable failed: {}", DisplayErrorContext(&e)))?;
            let t = out.table.ok_or("DescribeTable returned no table")?;
            if t.table_status == Some(ddbt::TableStatus::Active) {
                desc = Some(t);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        let t = desc.ok_or_else(|| format!("table {table} did not become ACTIVE"))?;
        let schema: Vec<(String, String)> = t
            .key_schema()
            .iter()
            .map(|k| (k.attribute_name().to_owned(), k.key_type().as_str().to_owned()))
            .collect();
        let want = vec![
            ("pk".to_owned(), "HASH".to_owned()),
            ("sk".to_owned(), "RANGE".to_owned()),
        ];
        if schema != want {
            return Err(format!(
                "table {table} exists with another key schema ({schema:?}); the backend needs pk (HASH) and sk (RANGE) strings: choose another table name"
            ));
        }
        let sse = t
            .sse_description()
            .and_then(|s| s.status())
            .map(|s| s.as_str().to_owned());
        done.push(format!(
            "encryption: {}",
            match sse.as_deref() {
                Some("ENABLED") => "KMS".to_owned(),
                Some(other) => other.to_owned(),
                None => "DynamoDB-owned key".to_owned(),
            }
        ));
        client
            .update_continuous_backups()
            .table_name(&table)
            .point_in_time_recovery_specification(
                ddbt::PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(true)
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .send()
            .await
            .map_err(|e| format!("UpdateContinuousBackups failed: {}", DisplayErrorContext(&e)))?;
        done.push("point-in-time recovery: enabled".to_owned());
        if t.deletion_protection_enabled() != Some(true) {
            client
                .update_table()
                .table_name(&table)
                .deletion_protection_enabled(true)
                .send()
                .await
                .map_err(|e| format!("UpdateTable failed: {}", DisplayErrorContext(&e)))?;
        }
        done.push("deletion protection: on".to_owned());
        Ok(done)
    })?
}
