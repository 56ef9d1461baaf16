//! What each restore resolves to: the recovery point (`latest` and
//! `random_within` picked, PITR windows), the KMS key and its replica in the
//! target Region, the restore request and the after-restore changes.

use super::rules::{unknown_indexes, verify_keys_fit};
use super::*;

impl Ctx<'_> {
    pub(super) async fn resolve(
        &self,
        index: usize,
        r: &Restore,
    ) -> (ResolvedRestore, Vec<Finding>) {
        let mut out = Out {
            restore: r,
            findings: Vec::new(),
        };
        let target = r.target.location.clone();
        let source = r.source.clone();
        let mut accounts = vec![&source.account];
        if target.account != source.account {
            accounts.push(&target.account);
        }
        let mut no_credentials = false;
        for account in accounts {
            if let Some((code, e)) = self.broken.get(account.as_str()) {
                no_credentials = true;
                let finding = if *code == codes::UNREACHABLE {
                    Finding::error(
                        codes::UNREACHABLE,
                        format!(
                            "AWS could not be reached for account {account} (restore `{}`)",
                            r.id
                        ),
                    )
                    .help(
                        "check the network, the proxy settings and `--endpoint-url` (or \
                         AWS_ENDPOINT_URL); the evidence says what failed and where",
                    )
                } else if *code == codes::WRONG_ACCOUNT {
                    Finding::error(
                        codes::WRONG_ACCOUNT,
                        format!(
                            "{} (restore `{}`); nothing was asked of {account}",
                            e.split(" (").next().unwrap_or(e),
                            r.id
                        ),
                    )
                    .help(format!(
                        "pass `--role {account}=arn:aws:iam::{account}:role/NAME` or `--profile {account}=PROFILE` with credentials of {account}"
                    ))
                } else {
                    Finding::error(
                        codes::CREDENTIALS,
                        format!(
                            "no usable credentials for account {account} (restore `{}`)",
                            r.id
                        ),
                    )
                    .help(format!(
                        "configure credentials for {account}: ambient credentials, `--profile {account}=NAME` or `--role {account}=ROLE_ARN`"
                    ))
                };
                out.push(finding.evidence(e.clone()));
            }
        }

        if no_credentials {
            // Every lookup for this restore would fail the same way; the
            // finding above says why, once.
            let resolved = ResolvedRestore {
                index,
                id: r.id.clone(),
                target,
                target_name: r.target_name.clone(),
                recovery_point: None,
                pitr: None,
                source_table: None,
                key: None,
                estimated_seconds: estimate_seconds(None, &build_request(r, None, None, None)),
                request: build_request(r, None, None, None),
                changes: Vec::new(),
                disposition: Disposition::Ready,
                copy: None,
            };
            return (resolved, out.findings);
        }

        // The original table, when readable: its key, indexes and settings.
        let source_table: Option<TableFacts> = match self
            .cloud
            .describe_table(&source, &r.table)
            .await
            .unwrap_or_default()
        {
            Some(t) => Some(self.classify_key(&source, t).await),
            None => None,
        };

        // With a copy step the point is chosen in the source's vault.
        let (recovery_point, pitr) = self
            .recovery_point(&super::copy::lookup_view(r), &mut out)
            .await;
        let copy = self.copy_step(r, recovery_point.as_ref(), &mut out).await;

        let key = self
            .key(r, source_table.as_ref(), recovery_point.as_ref(), &mut out)
            .await;

        // Never overwrite: the target table must not exist.
        match self.cloud.describe_table(&target, &r.target_name).await {
            Ok(Some(t)) => out.push(
                Finding::error(
                    codes::TARGET_EXISTS,
                    format!(
                        "restore `{}` would overwrite table `{}` in {target}",
                        r.id, r.target_name
                    ),
                )
                .at(r.spans.name)
                .label("this table already exists")
                .evidence(format!(
                    "DescribeTable {} in {target}: {} (status {})",
                    r.target_name, t.arn, t.status
                ))
                .help(
                    "choose another target `name` (e.g. \"{table}-{date}\"), or delete the existing table yourself; restoreplan never overwrites a table",
                ),
            ),
            Ok(None) => {}
            Err(e) => out.call_failed("check that the target table is absent", &e),
        }

        unknown_indexes(r, recovery_point.as_ref(), source_table.as_ref(), &mut out);
        if r.after_restore
            .verify
            .as_ref()
            .is_some_and(|v| !v.keys.is_empty())
        {
            let facts = match source_table {
                Some(_) => self.cloud.data_facts(&source, &r.table).await.ok(),
                None => None,
            };
            verify_keys_fit(r, facts.as_ref().map(|f| f.key_schema.as_slice()), &mut out);
        }
        let changes = self
            .changes(
                r,
                &source,
                source_table.as_ref(),
                recovery_point.as_ref(),
                &mut out,
            )
            .await;
        let effective = self
            .effective_encryption(
                r,
                key.as_ref(),
                source_table.as_ref(),
                recovery_point.as_ref(),
            )
            .await;
        let mut as_sent = r.clone();
        as_sent.encryption = effective;
        let request = build_request(
            &as_sent,
            recovery_point.as_ref(),
            key.as_ref().map(|k| k.arn.as_str()),
            source_table.as_ref().map(|t| t.indexes.as_slice()),
        );
        let (request, changes) = self.capacity(
            r,
            request,
            changes,
            source_table.as_ref(),
            recovery_point.as_ref(),
            &mut out,
        );
        let size = recovery_point
            .as_ref()
            .and_then(|rp| rp.size_bytes)
            .or_else(|| source_table.as_ref().and_then(|t| t.size_bytes));
        let estimated_seconds = estimate_seconds(size, &request);
        let resolved = ResolvedRestore {
            index,
            id: r.id.clone(),
            target,
            target_name: r.target_name.clone(),
            recovery_point,
            pitr,
            source_table,
            key,
            request,
            changes,
            estimated_seconds,
            disposition: Disposition::Ready,
            copy,
        };
        (resolved, out.findings)
    }

    /// `table` with its key classified by who manages it: DynamoDB reports
    /// the AWS-managed key by its ARN, exactly like a customer-managed key,
    /// so only KMS tells them apart. A key that cannot be described stays
    /// customer-managed, as DynamoDB reported it.
    pub(super) async fn classify_key(&self, scope: &Scope, table: TableFacts) -> TableFacts {
        let TableEncryption::Customer { key_arn } = &table.encryption else {
            return table;
        };
        match self.cloud.describe_key(scope, key_arn).await {
            Ok(k) => table.with_key_manager(k.manager),
            Err(_) => table,
        }
    }

    /// What `same-as-source` means for this restore, once the original key is known.
    pub(super) async fn effective_encryption(
        &self,
        r: &Restore,
        key: Option<&KeyFacts>,
        source_table: Option<&TableFacts>,
        rp: Option<&RecoveryPoint>,
    ) -> Encryption {
        if r.encryption != Encryption::SameAsSource {
            return r.encryption.clone();
        }
        if let Some(k) = key {
            return Encryption::CustomerManaged {
                key: crate::plan::model::KeyRef {
                    name: None,
                    arn: k.arn.clone(),
                },
            };
        }
        let managed = match source_table.map(|t| &t.encryption) {
            Some(TableEncryption::Managed { .. }) => true,
            Some(_) => false,
            None => match rp.and_then(|rp| rp.encryption_key_arn.as_deref()) {
                Some(arn) => self
                    .cloud
                    .describe_key(&r.source, arn)
                    .await
                    .is_ok_and(|k| k.manager == KeyManager::Aws),
                None => false,
            },
        };
        if managed {
            Encryption::DynamodbManaged
        } else {
            Encryption::DynamodbOwned
        }
    }

    pub(super) async fn recovery_point(
        &self,
        r: &Restore,
        out: &mut Out<'_>,
    ) -> (Option<RecoveryPoint>, Option<PitrFacts>) {
        let target = &r.target.location;
        match &r.recovery_point {
            RecoveryPointSelector::PointInTime { at } => {
                let pitr = match self.cloud.describe_pitr(&r.source, &r.table).await {
                    Ok(p) => p,
                    Err(e) if e.kind == ErrorKind::NotFound => {
                        out.push(
                            Finding::error(
                                codes::RP_NOT_FOUND,
                                format!(
                                    "restore `{}`: original table `{}` not found in {}",
                                    r.id, r.table, r.source
                                ),
                            )
                            .at(r.spans.table)
                            .evidence(e.to_string())
                            .help("point-in-time restores need the original table; check `table` and `source`"),
                        );
                        return (None, None);
                    }
                    Err(e) => {
                        out.call_failed("read the point-in-time recovery window", &e);
                        return (None, None);
                    }
                };
                if !pitr.enabled {
                    out.push(
                        Finding::error(
                            codes::PITR_NOT_ENABLED,
                            format!(
                                "restore `{}`: point-in-time recovery is not enabled on `{}`",
                                r.id, r.table
                            ),
                        )
                        .at(r.spans.recovery_point)
                        .evidence(format!(
                            "DescribeContinuousBackups {} in {}: PointInTimeRecoveryStatus DISABLED",
                            r.table, r.source
                        ))
                        .help("restore from a backup instead (`latest`), or enable PITR on the original table"),
                    );
                    return (None, Some(pitr));
                }
                let when = at.or(pitr.latest).unwrap_or(self.now);
                let outside = pitr.earliest.is_some_and(|e| when < e)
                    || pitr.latest.is_some_and(|l| when > l);
                if at.is_some() && outside {
                    out.push(
                        Finding::error(
                            codes::PITR_OUTSIDE_WINDOW,
                            format!(
                                "restore `{}`: {} is outside the restorable window of `{}`",
                                r.id,
                                when.to_rfc3339(),
                                r.table
                            ),
                        )
                        .at(r.spans.recovery_point)
                        .evidence(format!(
                            "restorable from {} to {}",
                            pitr.earliest
                                .map(|t| t.to_rfc3339())
                                .unwrap_or_else(|| "?".into()),
                            pitr.latest
                                .map(|t| t.to_rfc3339())
                                .unwrap_or_else(|| "?".into())
                        ))
                        .help("choose a time inside the window, or `point_in_time: latest`"),
                    );
                }
                self.rpo_check(r, when, "the point in time", out);
                (None, Some(pitr))
            }
            RecoveryPointSelector::BackupArn { arn } => {
                let Some(vault) = &r.target.vault else {
                    out.push(
                        Finding::error(
                            codes::VAULT_REQUIRED,
                            format!(
                                "restore `{}`: a recovery point ARN needs `target.vault` to be looked up",
                                r.id
                            ),
                        )
                        .at(r.spans.recovery_point)
                        .help("set `target.vault` to the vault that holds this recovery point"),
                    );
                    return (None, None);
                };
                self.location_check(r, arn, out);
                match self.cloud.describe_recovery_point(target, vault, arn).await {
                    Ok(rp) => {
                        self.check_point(r, &rp, out);
                        (Some(rp), None)
                    }
                    Err(e) if e.kind == ErrorKind::NotFound => {
                        out.push(
                            Finding::error(
                                codes::RP_NOT_FOUND,
                                format!(
                                    "restore `{}`: recovery point not found in vault `{vault}`",
                                    r.id
                                ),
                            )
                            .at(r.spans.recovery_point)
                            .evidence(e.to_string())
                            .help("check the ARN and `target.vault`, or use `latest`"),
                        );
                        (None, None)
                    }
                    Err(e) => {
                        out.call_failed("describe the recovery point", &e);
                        (None, None)
                    }
                }
            }
            RecoveryPointSelector::DynamoDbBackupArn { arn } => {
                self.location_check(r, arn, out);
                let scope = Location {
                    account: AccountId::parse(arn_account(arn).unwrap_or_default())
                        .unwrap_or_else(|| target.account.clone()),
                    region: Region::parse(arn_region(arn).unwrap_or_default())
                        .unwrap_or_else(|| target.region.clone()),
                };
                match self.cloud.describe_backup(&scope, arn).await {
                    Ok(rp) => {
                        self.check_point(r, &rp, out);
                        (Some(rp), None)
                    }
                    Err(e) if e.kind == ErrorKind::NotFound => {
                        out.push(
                            Finding::error(
                                codes::RP_NOT_FOUND,
                                format!("restore `{}`: DynamoDB backup not found", r.id),
                            )
                            .at(r.spans.recovery_point)
                            .evidence(e.to_string())
                            .help("check the backup ARN, or use `latest`"),
                        );
                        (None, None)
                    }
                    Err(e) => {
                        out.call_failed("describe the DynamoDB backup", &e);
                        (None, None)
                    }
                }
            }
            RecoveryPointSelector::Latest
            | RecoveryPointSelector::LatestBefore { .. }
            | RecoveryPointSelector::RandomWithin { .. } => {
                let before = match &r.recovery_point {
                    RecoveryPointSelector::LatestBefore { before } => Some(*before),
                    _ => None,
                };
                let (candidates, place) = match &r.target.vault {
                    Some(vault) => (
                        self.cloud
                            .vault_recovery_points(target, vault, &r.source_table_arn())
                            .await,
                        format!("vault `{vault}` in {target}"),
                    ),
                    None => (
                        self.cloud.table_backups(&r.source, &r.table).await,
                        format!("the DynamoDB backups of `{}` in {}", r.table, r.source),
                    ),
                };
                let candidates = match candidates {
                    Ok(c) => c,
                    Err(e) if e.kind == ErrorKind::NotFound => {
                        out.push(
                            Finding::error(
                                codes::RP_NONE,
                                format!("restore `{}`: no recovery point in {place}", r.id),
                            )
                            .at(r.spans.recovery_point)
                            .evidence(e.to_string())
                            .help("check `target.vault` and that backups of the table are copied there"),
                        );
                        return (None, None);
                    }
                    Err(e) => {
                        out.call_failed("list recovery points", &e);
                        return (None, None);
                    }
                };
                let usable = match &r.recovery_point {
                    RecoveryPointSelector::RandomWithin { window } => {
                        self.draw
                            .pick(self.plan.name(), &r.id, *window, &candidates)
                    }
                    _ => candidates.iter().find(|rp| {
                        rp.status == "COMPLETED"
                            && rp.resource_type.eq_ignore_ascii_case("DynamoDB")
                            && before.is_none_or(|b| rp.created < b)
                    }),
                };
                let within = match &r.recovery_point {
                    RecoveryPointSelector::RandomWithin { window } => format!(
                        " created within {} before {}",
                        duration_text(*window),
                        self.draw.at.to_rfc3339()
                    ),
                    _ => String::new(),
                };
                let Some(rp) = usable else {
                    let seen = if candidates.is_empty() {
                        "none at all".to_owned()
                    } else {
                        candidates
                            .iter()
                            .take(5)
                            .map(|rp| {
                                format!("{} {} {}", rp.arn, rp.status, rp.created.to_rfc3339())
                            })
                            .collect::<Vec<_>>()
                            .join("; ")
                    };
                    out.push(
                        Finding::error(
                            codes::RP_NONE,
                            format!(
                                "restore `{}`: no COMPLETED DynamoDB recovery point of `{}` in {place}{}{within}",
                                r.id,
                                r.table,
                                before.map(|b| format!(" before {}", b.to_rfc3339())).unwrap_or_default()
                            ),
                        )
                        .at(r.spans.recovery_point)
                        .evidence(format!("{} found: {seen}", candidates.len()))
                        .help("back the table up (and copy the backup into the vault), or change the selector"),
                    );
                    return (None, None);
                };
                // DynamoDB backups list without details; describe the chosen one.
                let rp = match rp.origin {
                    RecoveryPointOrigin::DynamoDbBackup => {
                        match self.cloud.describe_backup(&r.source, &rp.arn).await {
                            Ok(d) => d,
                            Err(_) => rp.clone(),
                        }
                    }
                    RecoveryPointOrigin::Vault { .. } => rp.clone(),
                };
                if rp.origin == RecoveryPointOrigin::DynamoDbBackup {
                    self.location_check(r, &rp.arn, out);
                }
                let which = if within.is_empty() {
                    "the newest recovery point"
                } else {
                    "the recovery point drawn"
                };
                self.rpo_check(r, rp.created, which, out);
                (Some(rp), None)
            }
        }
    }

    pub(super) async fn key(
        &self,
        r: &Restore,
        source_table: Option<&TableFacts>,
        rp: Option<&RecoveryPoint>,
        out: &mut Out<'_>,
    ) -> Option<KeyFacts> {
        let target = &r.target.location;
        match &r.encryption {
            Encryption::DynamodbOwned | Encryption::DynamodbManaged => None,
            Encryption::CustomerManaged { key } => {
                let facts = self.describe_key_as_target(r, &key.arn, out).await?;
                if facts.manager == KeyManager::Aws {
                    out.push(
                        Finding::error(
                            codes::NOT_CUSTOMER_MANAGED,
                            format!(
                                "restore `{}`: `customer-managed` names an AWS-managed key",
                                r.id
                            ),
                        )
                        .at(r.spans.key)
                        .evidence(format!("DescribeKey {}: KeyManager AWS", facts.arn))
                        .help("use `encryption: { type: dynamodb-managed }` for the AWS-managed key, or name a customer-managed key"),
                    );
                    return None;
                }
                let facts = self.in_target_region(r, facts, false, out).await?;
                if facts.account != target.account.as_str() {
                    self.shared_check(r, &facts, out).await;
                }
                Some(facts)
            }
            Encryption::SameAsSource => {
                let original = source_table
                    .map(|t| match &t.encryption {
                        TableEncryption::Customer { key_arn } => Some(key_arn.clone()),
                        TableEncryption::Managed { key_arn } => Some(
                            key_arn
                                .clone()
                                .unwrap_or_else(|| "alias/aws/dynamodb".into()),
                        ),
                        TableEncryption::Owned => None,
                    })
                    .or_else(|| rp.map(|rp| rp.encryption_key_arn.clone()));
                let Some(original) = original else {
                    out.push(
                        Finding::warning(
                            codes::SOURCE_UNREADABLE,
                            format!(
                                "restore `{}`: could not learn the original table's key; the restore uses the recovery point's default",
                                r.id
                            ),
                        )
                        .at(r.spans.encryption)
                        .help("make the original table readable to the source identity, or name the key with `customer-managed`"),
                    );
                    return None;
                };
                let Some(original) = original else {
                    // The original uses the AWS-owned key, which exists in
                    // every account and Region: the restore uses it too,
                    // wherever it runs.
                    return None;
                };
                // Read the key as its owner where possible.
                let owner = Location {
                    account: AccountId::parse(arn_account(&original).unwrap_or_default())
                        .unwrap_or_else(|| r.source.account.clone()),
                    region: Region::parse(arn_region(&original).unwrap_or_default())
                        .unwrap_or_else(|| r.source.region.clone()),
                };
                let facts = match self.cloud.describe_key(&owner, &original).await {
                    Ok(f) => f,
                    Err(_) => self.describe_key_as_target(r, &original, out).await?,
                };
                if facts.manager == KeyManager::Aws {
                    if r.is_cross_region() || r.is_cross_account() {
                        self.aws_key_cannot_follow(r, "the AWS-managed key", out);
                    }
                    return None;
                }
                let facts = self.in_target_region(r, facts, true, out).await?;
                if r.is_cross_account() || facts.account != target.account.as_str() {
                    self.shared_check(r, &facts, out).await;
                }
                Some(facts)
            }
        }
    }

    pub(super) async fn describe_key_as_target(
        &self,
        r: &Restore,
        key: &str,
        out: &mut Out<'_>,
    ) -> Option<KeyFacts> {
        let target = &r.target.location;
        // A key ARN of another Region is described in its own Region.
        let scope = Location {
            account: target.account.clone(),
            region: arn_region(key)
                .and_then(Region::parse)
                .unwrap_or_else(|| target.region.clone()),
        };
        match self.cloud.describe_key(&scope, key).await {
            Ok(f) => {
                if f.state != "Enabled" {
                    out.push(
                        Finding::error(
                            codes::KEY_NOT_ENABLED,
                            format!("restore `{}`: key is {}, not Enabled", r.id, f.state),
                        )
                        .at(r.spans.key)
                        .evidence(format!("DescribeKey {}: KeyState {}", f.arn, f.state))
                        .help("enable the key (or cancel its deletion), or choose another key"),
                    );
                    return None;
                }
                if f.spec != "SYMMETRIC_DEFAULT" || f.usage != "ENCRYPT_DECRYPT" {
                    out.push(
                        Finding::error(
                            codes::KEY_NOT_SYMMETRIC,
                            format!(
                                "restore `{}`: key is {} for {}, DynamoDB needs a symmetric encryption key",
                                r.id, f.spec, f.usage
                            ),
                        )
                        .at(r.spans.key)
                        .evidence(format!(
                            "DescribeKey {}: KeySpec {}, KeyUsage {}",
                            f.arn, f.spec, f.usage
                        ))
                        .help("choose a SYMMETRIC_DEFAULT key with usage ENCRYPT_DECRYPT"),
                    );
                    return None;
                }
                Some(f)
            }
            Err(e) if matches!(e.kind, ErrorKind::NotFound | ErrorKind::AccessDenied) => {
                out.push(
                    Finding::error(
                        codes::KEY_NOT_FOUND,
                        format!(
                            "restore `{}`: key not found or not visible to account {}",
                            r.id, target.account
                        ),
                    )
                    .at(r.spans.key)
                    .label("KMS does not know this key here")
                    .evidence(e.to_string())
                    .help("check the key ARN and Region; a key of another account must allow the target account in its key policy"),
                );
                None
            }
            Err(e) => {
                out.call_failed("describe the KMS key", &e);
                None
            }
        }
    }

    /// The key to use in the target Region: the key itself, or its replica.
    pub(super) async fn in_target_region(
        &self,
        r: &Restore,
        facts: KeyFacts,
        original: bool,
        out: &mut Out<'_>,
    ) -> Option<KeyFacts> {
        let target = &r.target.location;
        if facts.region == target.region.as_str() {
            return Some(facts);
        }
        let whose = if original {
            "the original table's key"
        } else {
            "the key"
        };
        let Some(mr) = &facts.multi_region else {
            out.push(
                Finding::error(
                    codes::NOT_MULTI_REGION,
                    format!(
                        "restore `{}`: {whose} is in {} and is not multi-Region, so it cannot encrypt a table in {}",
                        r.id, facts.region, target.region
                    ),
                )
                .at(if original { r.spans.encryption } else { r.spans.key })
                .evidence(format!("DescribeKey {}: MultiRegion false", facts.arn))
                .help(format!(
                    "use a multi-Region key with a replica in {} (kms ReplicateKey), or a key created in {}",
                    target.region, target.region
                )),
            );
            return None;
        };
        let Some(replica) = mr.arn_in(&target.region).map(str::to_owned) else {
            out.push(
                Finding::error(
                    codes::NO_REPLICA,
                    format!(
                        "restore `{}`: {whose} is multi-Region but has no replica in {}",
                        r.id, target.region
                    ),
                )
                .at(if original { r.spans.encryption } else { r.spans.key })
                .evidence(format!(
                    "DescribeKey {}: primary {}, replicas [{}]",
                    facts.arn,
                    mr.primary_arn,
                    mr.replica_arns.join(", ")
                ))
                .help(format!(
                    "replicate the key into {}: aws kms replicate-key --key-id {} --replica-region {}",
                    target.region, mr.primary_arn, target.region
                )),
            );
            return None;
        };
        // Check the replica itself: it has its own state.
        self.describe_key_as_target(r, &replica, out).await
    }

    /// The request and changes with the restore's capacity and class; a
    /// capacity the original cannot supply is a finding (and nothing is
    /// added).
    pub(super) fn capacity(
        &self,
        r: &Restore,
        request: RestoreRequest,
        changes: Vec<TableChange>,
        source_table: Option<&TableFacts>,
        recovery_point: Option<&crate::cloud::RecoveryPoint>,
        out: &mut Out<'_>,
    ) -> (RestoreRequest, Vec<TableChange>) {
        use crate::check::capacity::{Problem, apply};
        let available = recovery_point
            .and_then(|rp| rp.indexes.as_deref())
            .or(source_table.map(|t| t.indexes.as_slice()));
        // "What the original has": the original table, or, when it cannot
        // be read, the table description its recovery point holds.
        let (from, original) =
            crate::check::capacity::original_capacity(&r.capacity, source_table, recovery_point)
                .unwrap_or((crate::check::capacity::CapacitySource::OriginalTable, None));
        match apply(
            &r.capacity,
            request.clone(),
            changes.clone(),
            original,
            available,
        ) {
            Ok(done) => done,
            Err(Problem::NeedsThroughput) => {
                let why = match (original.and_then(|o| o.billing_mode), from) {
                    (Some(_), crate::check::capacity::CapacitySource::RecoveryPoint) => format!(
                        "the original table `{}` cannot be read and was on-demand when backed up",
                        r.table
                    ),
                    (Some(_), _) => format!("the original table `{}` is on-demand", r.table),
                    (None, _) => format!(
                        "the original table `{}` could not be read (nor does the recovery point describe it)",
                        r.table
                    ),
                };
                out.push(
                    Finding::error(
                        codes::CAPACITY_NEEDS_THROUGHPUT,
                        format!(
                            "restore `{}` asks for provisioned billing without `throughput`, and {why}: there is no provisioned capacity to copy",
                            r.id
                        ),
                    )
                    .at(r.spans.entry)
                    .help("add `throughput: { read: N, write: N }` to this restore (or to `defaults`), or use `billing_mode: on-demand`"),
                );
                (request, changes)
            }
            Err(Problem::IndexNeedsThroughput { index }) => {
                let why = match original {
                    Some(_) => format!("{} gives no capacity for index `{index}`", from.describe()),
                    None => format!("the original table `{}` could not be read", r.table),
                };
                out.push(
                    Finding::error(
                        codes::CAPACITY_INDEX_NEEDS_THROUGHPUT,
                        format!(
                            "restore `{}`: index `{index}` of the provisioned restored table has no throughput: the plan gives none, and {why}",
                            r.id
                        ),
                    )
                    .at(r.spans.entry)
                    .label("a provisioned table's index needs throughput")
                    .help(format!(
                        "give the index its own capacity, e.g. `indexes: [{{ name: {index}, throughput: {{ read: 5, write: 5 }} }}]`, or the table's with `throughput` (it applies to every kept index)"
                    )),
                );
                (request, changes)
            }
            Err(Problem::OriginalMode { key, original }) => {
                let (mode, fix) = match original {
                    crate::plan::capacity::BillingMode::OnDemand => (
                        "on-demand",
                        "add `billing_mode: provisioned` to switch the restored table to provisioned capacity, or remove `throughput`",
                    ),
                    crate::plan::capacity::BillingMode::Provisioned => (
                        "provisioned",
                        "add `billing_mode: on-demand` to switch the restored table to on-demand, or remove `on_demand_throughput`",
                    ),
                };
                out.push(
                    Finding::error(
                        codes::CAPACITY_ORIGINAL_MODE,
                        format!(
                            "restore `{}` sets `{key}` without `billing_mode`, but the original table `{}` is {mode} (the restored table keeps the original's billing mode)",
                            r.id, r.table
                        ),
                    )
                    .at(r.spans.entry)
                    .evidence(match from {
                        crate::check::capacity::CapacitySource::RecoveryPoint => format!(
                            "DescribeBackup {}: SourceTableDetails.BillingMode {} (the original table cannot be read)",
                            recovery_point.map_or("", |rp| rp.arn.as_str()),
                            original.aws_name()
                        ),
                        _ => format!(
                            "DescribeTable {} in {}: BillingMode {}",
                            r.table,
                            r.source,
                            original.aws_name()
                        ),
                    })
                    .help(fix),
                );
                (request, changes)
            }
        }
    }

    pub(super) async fn changes(
        &self,
        r: &Restore,
        _source: &Scope,
        source_table: Option<&TableFacts>,
        recovery_point: Option<&RecoveryPoint>,
        out: &mut Out<'_>,
    ) -> Vec<TableChange> {
        let available = recovery_point
            .and_then(|rp| rp.indexes.as_deref())
            .or(source_table.map(|t| t.indexes.as_slice()));
        let kept = crate::check::request::kept_indexes(r, available)
            .map(|v| v.into_iter().map(|ix| ix.name).collect());
        let original = crate::check::original::read(
            self.cloud,
            r,
            source_table,
            kept,
            crate::check::original::Want::Copies,
        )
        .await;
        let unread = crate::check::original::unread_copies(r, &original);
        if !unread.is_empty() {
            let keys = unread
                .iter()
                .map(|k| format!("`{k}: copy`"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(
                Finding::warning(
                    codes::SOURCE_UNREADABLE,
                    format!(
                        "restore `{}`: {keys} cannot read the original table's setting; the restored table will not have it",
                        r.id
                    ),
                )
                .help("give an explicit value instead of `copy`, or make the original table's settings readable to the source account's credentials"),
            );
        }
        crate::check::changes::planned(self.plan.name(), &r.after_restore, &original)
    }
}
