"""KMS as AWS answers it where moto 5.2.5 does not.

Patched into moto's backend:
- `alias/aws/*` keys are AWS managed (KeyManager AWS), created lazily per
  account and Region, also when DynamoDB needs `alias/aws/dynamodb`.
- ReplicateKey accepts a key ARN, and primary and replicas keep their own
  MultiRegionConfiguration (PRIMARY on the primary, REPLICA on replicas).
- KeyUsage defaults to ENCRYPT_DECRYPT (moto reported null).
- A key's asymmetric private key is generated when it is first used (Sign,
  Verify, GetPublicKey), not when the key is created: moto generated an RSA
  2048 key for every key, symmetric ones too, which made CreateKey (and the
  first use of `alias/aws/dynamodb` in each account) the emulator's most
  expensive request.
- Ciphertext of multi-Region keys decrypts (moto cut their 40-character key
  ids to 36 in the ciphertext header).

Handled in front of moto (`handle`):
- Key and alias ARNs of another Region are NotFound, like in AWS.
- A key ARN of another account is used by the key policy: allowed operations
  run against the owning account, others answer AccessDeniedException.
  GetKeyPolicy and the other management operations never work across accounts.
- Disabled keys refuse cryptographic operations (DisabledException), and
  grant operations on an unknown key are NotFoundException (moto crashed).
- Key policies are evaluated per caller: a statement applies when its
  Principal names the caller's account (or role), its Action matches, and
  its conditions on `aws:PrincipalAccount` / `kms:CallerAccount` hold
  (StringEquals, StringNotEquals, ...IgnoreCase, StringLike, StringNotLike,
  with IfExists and ForAnyValue/ForAllValues). moto denied DescribeKey to
  everyone when any Deny statement named it.
- DryRun on CreateGrant, Encrypt, Decrypt, GenerateDataKey*, ReEncrypt:
  DryRunOperationException when the call would have succeeded, the real error
  otherwise, and no change either way.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import re
import struct
from copy import copy
from typing import Any, Callable

from moto.core.exceptions import JsonRESTError
from moto.kms import utils as kms_utils
from moto.kms import models as kms_models
from moto.kms import responses as kms_responses
from moto.kms.exceptions import AccessDeniedException
from moto.kms.models import Key, KmsBackend, kms_backends

from .wire import AwsError, AwsRequest, Response, error_response

_KEY_ARN = re.compile(r"^arn:aws[\w-]*:kms:([a-z0-9-]+):(\d{12}):key/(.+)$")
_ALIAS_ARN = re.compile(r"^arn:aws[\w-]*:kms:([a-z0-9-]+):(\d{12}):(alias/.+)$")

# Operations a key policy can grant to another account (AWS KMS developer guide,
# "Allowing users in other accounts to use a KMS key").
CROSS_ACCOUNT_OPS = {
    "CreateGrant", "Decrypt", "DescribeKey", "Encrypt", "GenerateDataKey",
    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext", "GenerateMac", "GetPublicKey", "ListGrants",
    "ReEncrypt", "RetireGrant", "RevokeGrant", "Sign", "Verify", "VerifyMac",
}
CRYPTO_OPS = {
    "Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "Sign", "Verify",
}
# moto looks these keys up without checking they exist.
_GRANT_OPS = {"CreateGrant", "ListGrants", "RevokeGrant"}
DRY_RUN_OPS = {"CreateGrant", "Encrypt", "Decrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncrypt"}

# What DynamoDB needs of a customer managed key to encrypt a table with it.
DYNAMODB_KEY_ACTIONS = [
    "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom",
    "kms:ReEncryptTo", "kms:CreateGrant", "kms:DescribeKey",
]

_AWS_MANAGED_DESCRIPTIONS = {
    "alias/aws/dynamodb": "Default key that protects my DynamoDB data when no other key is defined",
}


# ---------------------------------------------------------------------------
# Patches to moto's backend.


_KEY_ID_FIELD = 40  # "mrk-" + a UUID


def _serialize_ciphertext_blob(ciphertext: Any) -> bytes:
    header = struct.pack(
        f">{_KEY_ID_FIELD}s{kms_utils.IV_LEN}s{kms_utils.TAG_LEN}s",
        ciphertext.key_id.encode("utf-8"), ciphertext.iv, ciphertext.tag,
    )
    return header + ciphertext.ciphertext


def _deserialize_ciphertext_blob(ciphertext_blob: bytes) -> Any:
    header_len = _KEY_ID_FIELD + kms_utils.IV_LEN + kms_utils.TAG_LEN
    key_id, iv, tag = struct.unpack(
        f">{_KEY_ID_FIELD}s{kms_utils.IV_LEN}s{kms_utils.TAG_LEN}s", ciphertext_blob[:header_len]
    )
    return kms_utils.Ciphertext(
        key_id=key_id.rstrip(b"\0").decode("utf-8"), iv=iv, ciphertext=ciphertext_blob[header_len:], tag=tag
    )


def ciphertext_key_id(blob: bytes) -> str | None:
    try:
        return _deserialize_ciphertext_blob(blob).key_id
    except Exception:
        return None


def _aws_managed_policy(account: str, service: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Id": f"auto-{service}-1",
        "Statement": [{
            "Sid": f"Allow access through {service} for all principals in the account that are authorized to use {service}",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:CallerAccount": account}},
        }, {
            "Sid": "Allow direct access to key metadata to the account",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
            "Resource": "*",
        }],
    })


def _generate_default_keys(self: KmsBackend, alias_name: str) -> str | None:
    """AWS managed keys for `alias/aws/*`, created on first use like in AWS."""
    if alias_name not in kms_utils.RESERVED_ALIASES:
        return None
    service = alias_name.split("/")[-1]
    key = self.create_key(
        _aws_managed_policy(self.account_id, service),
        "ENCRYPT_DECRYPT",
        "SYMMETRIC_DEFAULT",
        _AWS_MANAGED_DESCRIPTIONS.get(alias_name, f"Default key that protects my {service} data"),
        None,
    )
    key.key_manager = "AWS"
    self.create_alias(key.id, alias_name)
    return key.id


def aws_managed_key(account: str, region: str, alias_name: str = "alias/aws/dynamodb") -> Key:
    backend = kms_backends[account][region]
    return backend.keys[backend.any_id_to_key_id(alias_name)]


def _replicate_key(self: KmsBackend, key_id: str, replica_region: str) -> Key:
    """ReplicateKey with separate, consistent configurations on every member."""
    primary = self.keys.get(self.get_key_id(key_id))
    if primary is None:
        raise JsonRESTError("NotFoundException", f"Key '{key_id}' does not exist")
    if not primary.multi_region:
        raise JsonRESTError("UnsupportedOperationException", f"{primary.arn} is not a multi-Region key")
    config = primary.multi_region_configuration
    if config["MultiRegionKeyType"] != "PRIMARY":
        raise JsonRESTError("UnsupportedOperationException", f"{primary.arn} is a replica key; replicate its primary key")
    if replica_region == self.region_name:
        raise JsonRESTError("ValidationException", f"the replica Region must differ from the primary's Region {self.region_name}")
    if any(r["Region"] == replica_region for r in config["ReplicaKeys"]):
        raise JsonRESTError("AlreadyExistsException", f"{primary.id} already has a replica in {replica_region}")

    # copy() keeps the key material shared, so ciphertext moves between Regions.
    replica = copy(primary)
    replica.region = replica_region
    replica.arn = primary.arn.replace(f":{self.region_name}:", f":{replica_region}:", 1)
    replica.grants = {}
    replica.aliases = {}
    replica.rotations = []
    replica.key_state = "Enabled"
    replica.enabled = True
    config["ReplicaKeys"].append({"Arn": replica.arn, "Region": replica_region})
    members = [primary] + [kms_backends[self.account_id][r["Region"]].keys.get(primary.id) for r in config["ReplicaKeys"][:-1]]
    members = [m for m in members if m is not None] + [replica]
    for member in members:
        member.multi_region_configuration = {
            "MultiRegionKeyType": "PRIMARY" if member is primary else "REPLICA",
            "PrimaryKey": dict(config["PrimaryKey"]),
            "ReplicaKeys": [dict(r) for r in config["ReplicaKeys"]],
        }
    kms_backends[self.account_id][replica_region].keys[replica.id] = replica
    return replica


def _describe_key(self: KmsBackend, key_id: str) -> Key:
    # moto's version rewrites the (once shared) configuration on every call.
    return self.keys[self.any_id_to_key_id(key_id)]


_original_create_key = KmsBackend.create_key


def _create_key(self: KmsBackend, policy: Any, key_usage: Any, key_spec: Any, *args: Any, **kwargs: Any) -> Key:
    # AWS defaults KeyUsage to ENCRYPT_DECRYPT; moto left it null in DescribeKey.
    return _original_create_key(self, policy, key_usage or "ENCRYPT_DECRYPT", key_spec, *args, **kwargs)


class _LazyPrivateKey:
    """moto's private key of a KMS key, generated on first use."""

    def __init__(self, key_spec: str) -> None:
        self.__dict__["_key_spec"] = key_spec
        self.__dict__["_key"] = None

    def _generated(self) -> Any:
        if self.__dict__["_key"] is None:
            self.__dict__["_key"] = kms_utils.generate_private_key(self.__dict__["_key_spec"])
        return self.__dict__["_key"]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._generated(), name)

    def __deepcopy__(self, memo: dict[int, Any]) -> _LazyPrivateKey:
        # A copy shares the key (a replica key is a copy of its primary).
        return self


def _by_any_id(original: Callable[..., Any]) -> Callable[..., Any]:
    # AWS accepts a key ARN wherever it accepts a key id; these moto methods
    # index their dict with the raw value and fail with KeyError on an ARN.
    def patched(self: KmsBackend, key_id: str, *args: Any, **kwargs: Any) -> Any:
        return original(self, self.any_id_to_key_id(key_id), *args, **kwargs)

    return patched


def apply_patches() -> None:
    kms_utils._serialize_ciphertext_blob = _serialize_ciphertext_blob
    kms_utils._deserialize_ciphertext_blob = _deserialize_ciphertext_blob
    KmsBackend._generate_default_keys = _generate_default_keys
    KmsBackend.replicate_key = _replicate_key
    KmsBackend.describe_key = _describe_key
    KmsBackend.create_key = _create_key
    kms_models.generate_private_key = _LazyPrivateKey
    kms_responses.validate_policy = _validate_policy
    for name in ("disable_key", "enable_key", "cancel_key_deletion", "schedule_key_deletion"):
        setattr(KmsBackend, name, _by_any_id(getattr(KmsBackend, name)))


# ---------------------------------------------------------------------------
# Key policies.


def caller_arn(access_key: str | None, account: str) -> str | None:
    """The role an AssumeRole session acts as, when moto knows it."""
    if not access_key:
        return None
    from moto.iam.models import iam_backends

    try:
        key = iam_backends[account]["global"].access_keys.get(access_key)
    except Exception:
        return None
    return getattr(key, "role_arn", None) if key else None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _principal_matches(statement: dict[str, Any], account: str, arn: str | None) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for value in _as_list(principal.get("AWS")):
        if value in ("*", account):
            return True
        found = re.match(r"^arn:aws[\w-]*:iam::(\d{12}):(.+)$", str(value))
        if found and found.group(1) == account and (found.group(2) == "root" or value == arn):
            return True
    return False


# Condition keys whose value is the caller's account; the only ones evaluated.
_ACCOUNT_KEYS = ("kms:calleraccount", "aws:principalaccount")


def _string_operator(operator: str) -> tuple[str, bool] | None:
    """(base operator, IfExists) of a string condition operator, or None for others.

    `ForAnyValue:` and `ForAllValues:` are accepted: the account keys are
    single-valued, so both behave like the plain operator.
    """
    name = operator
    for prefix in ("ForAnyValue:", "ForAllValues:"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    if_exists = name.endswith("IfExists")
    if if_exists:
        name = name[: -len("IfExists")]
    if name in ("StringEquals", "StringNotEquals", "StringEqualsIgnoreCase",
                "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike"):
        return name, if_exists
    return None


def condition_matches(operator: str, values: Any, account: str) -> bool | None:
    """Whether a condition on an account key holds for `account`, as IAM evaluates it.

    None when the operator is not a string operator (not evaluated here).
    """
    parsed = _string_operator(operator)
    if parsed is None:
        return None
    name, _ = parsed
    wanted = [str(v) for v in _as_list(values)]
    if name in ("StringEquals", "StringNotEquals"):
        hit = account in wanted
    elif name in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        hit = account.lower() in [w.lower() for w in wanted]
    else:
        # StringLike: `*` and `?` wildcards, case-sensitive.
        hit = any(fnmatch.fnmatchcase(account, w.replace("[", "[[]")) for w in wanted)
    return not hit if "Not" in name else hit


def _conditions_hold(statement: dict[str, Any], account: str) -> bool:
    """Whether every condition of `statement` holds for a caller of `account`.

    The account keys (`kms:CallerAccount`, `aws:PrincipalAccount`) are
    evaluated with the string operators; other keys and operators count as
    satisfied. All conditions of a statement must hold (AND).
    """
    for operator, clauses in (statement.get("Condition") or {}).items():
        if not isinstance(clauses, dict):
            continue
        for key, values in clauses.items():
            if str(key).lower() not in _ACCOUNT_KEYS:
                continue
            if condition_matches(str(operator), values, account) is False:
                return False
    return True


def _action_matches(statement: dict[str, Any], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), str(p).lower()) for p in _as_list(statement.get("Action")))


def policy_denies(key: Key, account: str, action: str, arn: str | None = None) -> bool:
    """Whether an explicit `Deny` of the key policy applies to `account` (or the role `arn`)."""
    try:
        policy = json.loads(key.policy)
    except (TypeError, ValueError):
        return False
    return any(
        str(statement.get("Effect", "")).lower() == "deny"
        and _principal_matches(statement, account, arn)
        and _action_matches(statement, action)
        and _conditions_hold(statement, account)
        for statement in _as_list(policy.get("Statement"))
        if isinstance(statement, dict)
    )


# The caller of the KMS request being answered (requests are answered one at
# a time, under the server's lock), for moto's own key-policy check.
_caller: tuple[str, str | None] | None = None


def _validate_policy(key: Key, action: str) -> None:
    """moto's check before DescribeKey and friends, with principals and conditions.

    moto denied the action to every caller whenever any `Deny` statement
    named it, whatever its `Principal` and `Condition`; AWS denies only the
    callers the statement applies to.
    """
    account, arn = _caller if _caller is not None else (key.account_id, None)
    if policy_denies(key, account, action, arn):
        raise AccessDeniedException(
            f"User: arn:aws:iam::{account}:root is not authorized to perform: {action} on resource: "
            f"{key.arn} with an explicit deny in a resource-based policy"
        )


def policy_allows(key: Key, account: str, action: str, arn: str | None = None) -> bool:
    """Whether the key policy lets `account` (or the role `arn` in it) do `action`."""
    try:
        policy = json.loads(key.policy)
    except (TypeError, ValueError):
        return False
    allowed = False
    for statement in _as_list(policy.get("Statement")):
        if not (_principal_matches(statement, account, arn) and _action_matches(statement, action)
                and _conditions_hold(statement, account)):
            continue
        if str(statement.get("Effect", "")).lower() == "deny":
            return False
        if str(statement.get("Effect", "")).lower() == "allow":
            allowed = True
    return allowed


# ---------------------------------------------------------------------------
# Keys for DynamoDB encryption (used by table restores and AWS Backup restores).


class KeyProblem(Exception):
    """Why a KMS key cannot encrypt a DynamoDB table; the message says which key and why."""


def key_for_table(caller_account: str, region: str, key_ref: str, caller: str | None = None) -> Key:
    """The key DynamoDB would encrypt a table in (caller_account, region) with.

    Accepts a key id, key ARN, alias name or alias ARN, and checks what AWS
    checks: the key exists in the table's Region, is visible and usable by the
    caller's account, is Enabled and is a symmetric encryption key.
    """
    key_ref = key_ref.strip()
    owner, name = caller_account, key_ref
    found = _KEY_ARN.match(key_ref) or _ALIAS_ARN.match(key_ref)
    if found:
        arn_region, owner, name = found.group(1), found.group(2), found.group(3)
        if arn_region != region:
            raise KeyProblem(
                f"KMS key {key_ref} is in Region {arn_region}, not in {region} where the table is; "
                "use a key (or a multi-Region replica) in the table's Region"
            )
        if name.startswith("alias/") and owner != caller_account:
            raise KeyProblem(f"KMS alias {key_ref} belongs to account {owner}; aliases cannot be used across accounts, use the key ARN")
    elif not (name.startswith("alias/") or re.match(r"^(mrk-)?[0-9a-fA-F-]{32,36}$", name)):
        raise KeyProblem(f"{key_ref!r} is not a KMS key id, key ARN, alias name or alias ARN")
    backend = kms_backends[owner][region]
    try:
        key_id = backend.any_id_to_key_id(name)
    except Exception:
        key_id = None
    key = backend.keys.get(key_id) if key_id else None
    if key is None:
        raise KeyProblem(f"KMS key {key_ref} does not exist in account {owner}, Region {region}")
    if owner != caller_account:
        if key.key_manager == "AWS":
            raise KeyProblem(f"KMS key {key.arn} is an AWS managed key of account {owner}; AWS managed keys cannot be shared")
        missing = [a for a in DYNAMODB_KEY_ACTIONS if not policy_allows(key, caller_account, a, caller)]
        if missing:
            raise KeyProblem(
                f"the key policy of KMS key {key.arn} does not allow account {caller_account} "
                f"{', '.join(missing)}; grant them to arn:aws:iam::{caller_account}:root"
            )
    if key.key_state != "Enabled":
        raise KeyProblem(f"KMS key {key.arn} is {key.key_state}, not Enabled")
    if key.key_spec != "SYMMETRIC_DEFAULT" or key.key_usage != "ENCRYPT_DECRYPT":
        raise KeyProblem(
            f"KMS key {key.arn} is {key.key_spec}/{key.key_usage}; DynamoDB needs a symmetric "
            "encryption key (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT)"
        )
    return key


# ---------------------------------------------------------------------------
# Requests.


CallMoto = Callable[..., Response]


def _key_field(operation: str) -> str:
    return "DestinationKeyId" if operation == "ReEncrypt" else "KeyId"


def _owner_of(req: AwsRequest, params: dict[str, Any]) -> tuple[str, Key | None]:
    """The account owning the key this request names, and the key when already resolved.

    Raises the AWS error for ARNs of another Region, other accounts' aliases,
    unknown or unshared keys.
    """
    ref = params.get(_key_field(req.operation))
    if not isinstance(ref, str):
        if req.operation == "Decrypt" and params.get("CiphertextBlob"):
            return _owner_from_ciphertext(req, params["CiphertextBlob"])
        return req.account, None
    key_arn, alias_arn = _KEY_ARN.match(ref), _ALIAS_ARN.match(ref)
    found = key_arn or alias_arn
    if not found:
        return req.account, None
    region, owner = found.group(1), found.group(2)
    if region != req.region:
        raise AwsError("NotFoundException", f"Key '{ref}' does not exist in Region {req.region}")
    if owner == req.account:
        return owner, None
    if alias_arn:
        raise AwsError("NotFoundException", f"Alias {ref} is not found.")
    key = kms_backends[owner][region].keys.get(found.group(3))
    if key is None:
        raise AwsError("NotFoundException", f"Key '{ref}' does not exist")
    _check_cross_account(req, key)
    return owner, key


def _check_cross_account(req: AwsRequest, key: Key) -> None:
    # IAM authorises ReEncrypt as ReEncryptTo on the destination key, the one checked here.
    action = "kms:ReEncryptTo" if req.operation == "ReEncrypt" else f"kms:{req.operation}"
    denied = AwsError(
        "AccessDeniedException",
        f"User: arn:aws:iam::{req.account}:root is not authorized to perform: {action} on resource: "
        f"{key.arn} because no resource-based policy allows the {action} action",
    )
    if req.operation not in CROSS_ACCOUNT_OPS or key.key_manager == "AWS":
        raise denied
    if not policy_allows(key, req.account, action, caller_arn(req.access_key, req.account)):
        raise denied


def _owner_from_ciphertext(req: AwsRequest, blob_b64: str) -> tuple[str, Key | None]:
    try:
        key_id = ciphertext_key_id(base64.b64decode(blob_b64))
    except Exception:
        key_id = None
    if not key_id or key_id in kms_backends[req.account][req.region].keys:
        return req.account, None
    for owner in list(kms_backends.keys()):
        if owner == req.account:
            continue
        key = kms_backends[owner][req.region].keys.get(key_id) if req.region in kms_backends[owner] else None
        if key is not None:
            _check_cross_account(req, key)
            return owner, key
    return req.account, None


def _check_key(req: AwsRequest, owner: str, key: Key | None, params: dict[str, Any]) -> None:
    """Errors AWS gives about the named key that moto does not (or answers with a crash)."""
    if req.operation not in CRYPTO_OPS and req.operation not in _GRANT_OPS:
        return
    ref = params.get(_key_field(req.operation))
    if key is None and isinstance(ref, str):
        backend = kms_backends[owner][req.region]
        try:
            key = backend.keys.get(backend.any_id_to_key_id(ref))
        except Exception:
            key = None
        if key is None and req.operation in _GRANT_OPS:
            raise AwsError("NotFoundException", f"Key '{ref}' does not exist")
    if key is None or req.operation not in CRYPTO_OPS:
        return
    if key.key_state == "Disabled":
        raise AwsError("DisabledException", f"{key.arn} is disabled.")
    if key.key_state != "Enabled":
        raise AwsError("KMSInvalidStateException", f"{key.arn} is pending deletion.")


def handle(req: AwsRequest, call_moto: CallMoto) -> Response | None:
    """Answer a KMS request moto would get wrong; None lets moto answer it as is."""
    global _caller
    # moto's own policy check (DescribeKey, ...) runs while this request is
    # answered, also after this returns None; it must know who asks.
    _caller = (req.account, caller_arn(req.access_key, req.account))
    try:
        params = req.json()
    except AwsError as err:
        return error_response(req, err)
    try:
        owner, key = _owner_of(req, params)
        _check_key(req, owner, key, params)
    except AwsError as err:
        return error_response(req, err)

    dry_run = req.operation in DRY_RUN_OPS and params.get("DryRun") is True
    if owner == req.account and not dry_run:
        return None

    body = None
    if dry_run:
        stripped = {k: v for k, v in params.items() if k != "DryRun"}
        body = json.dumps(stripped).encode()
    response = call_moto(account=owner, body=body)
    if not dry_run or response.status >= 300:
        return response
    if req.operation == "CreateGrant":
        # The grant was created to prove the call would succeed; take it back.
        grant_id = json.loads(response.body).get("GrantId")
        backend = kms_backends[owner][req.region]
        for candidate in backend.keys.values():
            candidate.grants.pop(grant_id, None)
    return error_response(
        req,
        AwsError("DryRunOperationException", "The request would have succeeded, but the DryRun option is set.", 412),
    )
