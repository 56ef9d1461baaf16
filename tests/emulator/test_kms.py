"""KMS: AWS managed keys, multi-Region replicas, cross-account key policies, DryRun."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from conftest import DEFAULT_ACCOUNT, OTHER_ACCOUNT, OTHER_REGION, REGION, shared_key_policy


def code(err: pytest.ExceptionInfo) -> str:
    return err.value.response["Error"]["Code"]


def test_aws_managed_dynamodb_key(emulator):
    kms = emulator.client("kms")
    meta = kms.describe_key(KeyId="alias/aws/dynamodb")["KeyMetadata"]
    assert meta["KeyManager"] == "AWS"
    assert meta["MultiRegion"] is False
    assert meta["KeyUsage"] == "ENCRYPT_DECRYPT" and meta["KeySpec"] == "SYMMETRIC_DEFAULT"
    by_arn = kms.describe_key(KeyId=f"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT}:alias/aws/dynamodb")["KeyMetadata"]
    assert by_arn["KeyId"] == meta["KeyId"]
    west = emulator.client("kms", OTHER_REGION).describe_key(KeyId="alias/aws/dynamodb")["KeyMetadata"]
    assert west["KeyId"] != meta["KeyId"] and west["Arn"].startswith(f"arn:aws:kms:{OTHER_REGION}:")
    other = emulator.client("kms", credentials=emulator.assume(OTHER_ACCOUNT))
    theirs = other.describe_key(KeyId="alias/aws/dynamodb")["KeyMetadata"]
    assert theirs["AWSAccountId"] == OTHER_ACCOUNT and theirs["KeyManager"] == "AWS"
    # AWS managed keys are never shared.
    with pytest.raises(ClientError) as err:
        other.describe_key(KeyId=meta["Arn"])
    assert code(err) == "AccessDeniedException"
    assert kms.describe_key(KeyId=kms.create_key()["KeyMetadata"]["KeyId"])["KeyMetadata"]["KeyManager"] == "CUSTOMER"


def test_multi_region_replica(emulator):
    kms, west = emulator.client("kms"), emulator.client("kms", OTHER_REGION)
    primary = kms.create_key(MultiRegion=True)["KeyMetadata"]
    replica = kms.replicate_key(KeyId=primary["Arn"], ReplicaRegion=OTHER_REGION)["ReplicaKeyMetadata"]
    assert replica["Arn"] == primary["Arn"].replace(REGION, OTHER_REGION)
    assert replica["KeyId"] == primary["KeyId"]

    p = kms.describe_key(KeyId=primary["Arn"])["KeyMetadata"]["MultiRegionConfiguration"]
    r = west.describe_key(KeyId=replica["Arn"])["KeyMetadata"]["MultiRegionConfiguration"]
    expected_replicas = [{"Arn": replica["Arn"], "Region": OTHER_REGION}]
    assert p == {"MultiRegionKeyType": "PRIMARY", "PrimaryKey": {"Arn": primary["Arn"], "Region": REGION},
                 "ReplicaKeys": expected_replicas}
    assert r == {"MultiRegionKeyType": "REPLICA", "PrimaryKey": {"Arn": primary["Arn"], "Region": REGION},
                 "ReplicaKeys": expected_replicas}
    # A second replica shows up on every member.
    third = kms.replicate_key(KeyId=primary["KeyId"], ReplicaRegion="eu-west-1")["ReplicaKeyMetadata"]
    assert len(west.describe_key(KeyId=replica["Arn"])["KeyMetadata"]["MultiRegionConfiguration"]["ReplicaKeys"]) == 2
    assert kms.describe_key(KeyId=primary["Arn"])["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    assert third["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    with pytest.raises(ClientError) as err:
        kms.replicate_key(KeyId=primary["Arn"], ReplicaRegion=OTHER_REGION)
    assert code(err) == "AlreadyExistsException"
    single = kms.create_key()["KeyMetadata"]
    with pytest.raises(ClientError) as err:
        kms.replicate_key(KeyId=single["Arn"], ReplicaRegion=OTHER_REGION)
    assert code(err) == "UnsupportedOperationException"

    # Ciphertext moves between the Regions of one multi-Region key.
    blob = kms.encrypt(KeyId=primary["KeyId"], Plaintext=b"secret")["CiphertextBlob"]
    assert west.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"
    assert kms.decrypt(CiphertextBlob=blob, KeyId=primary["Arn"])["Plaintext"] == b"secret"


def test_arn_of_another_region_is_not_found(emulator):
    kms, west = emulator.client("kms"), emulator.client("kms", OTHER_REGION)
    primary = kms.create_key(MultiRegion=True)["KeyMetadata"]
    kms.replicate_key(KeyId=primary["KeyId"], ReplicaRegion=OTHER_REGION)
    with pytest.raises(ClientError) as err:
        west.describe_key(KeyId=primary["Arn"])  # the us-east-1 ARN, asked in us-west-2
    assert code(err) == "NotFoundException"


def test_cross_account_use_follows_the_key_policy(emulator):
    kms = emulator.client("kms")
    other = emulator.client("kms", credentials=emulator.assume(OTHER_ACCOUNT))
    shared = kms.create_key(Policy=shared_key_policy(DEFAULT_ACCOUNT, OTHER_ACCOUNT))["KeyMetadata"]
    private = kms.create_key()["KeyMetadata"]

    meta = other.describe_key(KeyId=shared["Arn"])["KeyMetadata"]
    assert meta["AWSAccountId"] == DEFAULT_ACCOUNT and meta["KeyManager"] == "CUSTOMER"
    blob = other.encrypt(KeyId=shared["Arn"], Plaintext=b"data")["CiphertextBlob"]
    assert other.decrypt(CiphertextBlob=blob)["Plaintext"] == b"data"
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"data"
    assert len(other.generate_data_key(KeyId=shared["Arn"], KeySpec="AES_256")["Plaintext"]) == 32
    again = other.re_encrypt(CiphertextBlob=blob, DestinationKeyId=shared["Arn"])
    assert again["KeyId"] == shared["Arn"]
    grant = other.create_grant(KeyId=shared["Arn"], GranteePrincipal=f"arn:aws:iam::{OTHER_ACCOUNT}:role/x",
                               Operations=["Decrypt"])
    assert grant["GrantId"] in [g["GrantId"] for g in kms.list_grants(KeyId=shared["KeyId"])["Grants"]]

    with pytest.raises(ClientError) as err:
        other.get_key_policy(KeyId=shared["Arn"], PolicyName="default")
    assert code(err) == "AccessDeniedException"
    with pytest.raises(ClientError) as err:
        other.describe_key(KeyId=private["Arn"])
    assert code(err) == "AccessDeniedException"
    with pytest.raises(ClientError) as err:
        other.encrypt(KeyId=private["Arn"], Plaintext=b"x")
    assert code(err) == "AccessDeniedException"
    with pytest.raises(ClientError) as err:
        other.describe_key(KeyId=f"arn:aws:kms:{REGION}:{DEFAULT_ACCOUNT}:key/11111111-2222-3333-4444-555555555555")
    assert code(err) == "NotFoundException"
    # A key id alone always means the caller's own account.
    with pytest.raises(ClientError) as err:
        other.describe_key(KeyId=shared["KeyId"])
    assert code(err) == "NotFoundException"


def test_policy_wildcards_and_bare_account(emulator):
    kms = emulator.client("kms")
    other = emulator.client("kms", credentials=emulator.assume(OTHER_ACCOUNT))
    describe_only = kms.create_key(Policy=shared_key_policy(DEFAULT_ACCOUNT, OTHER_ACCOUNT, "kms:Describe*"))["KeyMetadata"]
    other.describe_key(KeyId=describe_only["Arn"])
    with pytest.raises(ClientError) as err:
        other.encrypt(KeyId=describe_only["Arn"], Plaintext=b"x")
    assert code(err) == "AccessDeniedException"
    policy = json.loads(shared_key_policy(DEFAULT_ACCOUNT, OTHER_ACCOUNT, "kms:*"))
    policy["Statement"][1]["Principal"]["AWS"] = OTHER_ACCOUNT
    everything = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]
    other.encrypt(KeyId=everything["Arn"], Plaintext=b"x")


def test_dry_run(emulator):
    kms = emulator.client("kms")
    key = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    calls = {
        "create_grant": dict(KeyId=key["KeyId"], GranteePrincipal=f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/x", Operations=["Decrypt"]),
        "encrypt": dict(KeyId=key["KeyId"], Plaintext=b"x"),
        "decrypt": dict(CiphertextBlob=blob),
        "generate_data_key": dict(KeyId=key["KeyId"], KeySpec="AES_256"),
        "re_encrypt": dict(CiphertextBlob=blob, DestinationKeyId=key["KeyId"]),
    }
    for name, kwargs in calls.items():
        with pytest.raises(ClientError) as err:
            getattr(kms, name)(DryRun=True, **kwargs)
        assert code(err) == "DryRunOperationException", name
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert kms.list_grants(KeyId=key["KeyId"])["Grants"] == []  # nothing was created
    # The real error when the call would fail.
    with pytest.raises(ClientError) as err:
        kms.create_grant(DryRun=True, KeyId="11111111-2222-3333-4444-555555555555",
                         GranteePrincipal="arn:aws:iam::123456789012:role/x", Operations=["Decrypt"])
    assert code(err) == "NotFoundException"
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as err:
        kms.encrypt(DryRun=True, KeyId=key["KeyId"], Plaintext=b"x")
    assert code(err) == "DisabledException"
    # Without DryRun the grant is created.
    kms.enable_key(KeyId=key["KeyId"])
    kms.create_grant(**calls["create_grant"])
    assert len(kms.list_grants(KeyId=key["KeyId"])["Grants"]) == 1


def test_cross_account_dry_run(emulator):
    kms = emulator.client("kms")
    other = emulator.client("kms", credentials=emulator.assume(OTHER_ACCOUNT))
    shared = kms.create_key(Policy=shared_key_policy(DEFAULT_ACCOUNT, OTHER_ACCOUNT))["KeyMetadata"]
    with pytest.raises(ClientError) as err:
        other.create_grant(DryRun=True, KeyId=shared["Arn"], GranteePrincipal=f"arn:aws:iam::{OTHER_ACCOUNT}:root",
                           Operations=["Decrypt", "Encrypt"])
    assert code(err) == "DryRunOperationException"
    assert kms.list_grants(KeyId=shared["KeyId"])["Grants"] == []


def test_disabled_keys_refuse_cryptography(emulator):
    kms = emulator.client("kms")
    key = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as err:
        kms.generate_data_key(KeyId=key["Arn"], KeySpec="AES_256")
    assert code(err) == "DisabledException"
    assert kms.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyState"] == "Disabled"  # still described


def test_key_state_changes_accept_a_key_arn(emulator):
    kms = emulator.client("kms")
    key = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=key["Arn"])
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
    kms.enable_key(KeyId=key["Arn"])
    kms.schedule_key_deletion(KeyId=key["Arn"], PendingWindowInDays=7)
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "PendingDeletion"
    kms.cancel_key_deletion(KeyId=key["Arn"])
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"


def _with_deny(policy: str, condition: dict) -> str:
    doc = json.loads(policy)
    doc["Statement"].append({"Sid": "deny-others", "Effect": "Deny", "Principal": {"AWS": "*"},
                             "Action": "kms:*", "Resource": "*", "Condition": condition})
    return json.dumps(doc)


def test_a_deny_conditioned_on_another_principal_account_does_not_deny_this_one(emulator):
    kms = emulator.client("kms")
    other = emulator.client("kms", credentials=emulator.assume(OTHER_ACCOUNT))
    shared = shared_key_policy(DEFAULT_ACCOUNT, OTHER_ACCOUNT)
    stranger = "999988887777"
    for condition in ({"StringEquals": {"aws:PrincipalAccount": stranger}},
                      {"StringEquals": {"aws:PrincipalAccount": [stranger, "111100001111"]}},
                      {"StringLike": {"aws:PrincipalAccount": "9999*"}},
                      {"StringEqualsIgnoreCase": {"kms:CallerAccount": stranger}},
                      {"StringNotEquals": {"aws:PrincipalAccount": [DEFAULT_ACCOUNT, OTHER_ACCOUNT]}},
                      {"StringNotLike": {"aws:PrincipalAccount": ["1234*", "4444*"]}}):
        key = kms.create_key(Policy=_with_deny(shared, condition))["KeyMetadata"]
        # Neither the owner nor the account the key is shared with is denied.
        assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyId"] == key["KeyId"], condition
        assert other.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyId"] == key["KeyId"], condition
        other.encrypt(KeyId=key["Arn"], Plaintext=b"x")


def test_a_deny_whose_condition_holds_denies(emulator):
    kms = emulator.client("kms")
    other = emulator.client("kms", credentials=emulator.assume(OTHER_ACCOUNT))
    shared = shared_key_policy(DEFAULT_ACCOUNT, OTHER_ACCOUNT)
    for condition in ({"StringEquals": {"aws:PrincipalAccount": OTHER_ACCOUNT}},
                      {"StringNotEquals": {"aws:PrincipalAccount": DEFAULT_ACCOUNT}},
                      {"StringLike": {"kms:CallerAccount": "4444*"}},
                      {"ForAnyValue:StringEquals": {"aws:PrincipalAccount": [OTHER_ACCOUNT]}}):
        key = kms.create_key(Policy=_with_deny(shared, condition))["KeyMetadata"]
        with pytest.raises(ClientError) as err:
            other.describe_key(KeyId=key["Arn"])
        assert code(err) == "AccessDeniedException", condition
        with pytest.raises(ClientError) as err:
            other.encrypt(KeyId=key["Arn"], Plaintext=b"x")
        assert code(err) == "AccessDeniedException", condition
        # The owner is not the account the condition names.
        kms.describe_key(KeyId=key["KeyId"])
    # A Deny of the owner's own account applies to the owner too.
    key = kms.create_key(Policy=_with_deny(shared, {"StringEquals": {"aws:PrincipalAccount": DEFAULT_ACCOUNT}}))
    with pytest.raises(ClientError) as err:
        kms.describe_key(KeyId=key["KeyMetadata"]["KeyId"])
    assert code(err) == "AccessDeniedException"
    other.describe_key(KeyId=key["KeyMetadata"]["Arn"])


def test_asymmetric_keys_sign_and_verify_with_a_key_made_on_first_use(emulator):
    kms = emulator.client("kms")
    for spec, algorithm in (("RSA_2048", "RSASSA_PSS_SHA_256"), ("ECC_NIST_P256", "ECDSA_SHA_256")):
        key = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec=spec)["KeyMetadata"]["KeyId"]
        signature = kms.sign(KeyId=key, Message=b"restoreplan", SigningAlgorithm=algorithm)["Signature"]
        assert kms.verify(KeyId=key, Message=b"restoreplan", Signature=signature, SigningAlgorithm=algorithm)["SignatureValid"]
        public = kms.get_public_key(KeyId=key)["PublicKey"]
        assert public == kms.get_public_key(KeyId=key)["PublicKey"]
