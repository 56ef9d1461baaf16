"""Many parallel SDK calls, like the Rust tests fire, all answered correctly."""

from __future__ import annotations

import concurrent.futures

from conftest import make_table, role, table_arn, wait_restore_job


def test_sixty_parallel_mixed_calls(emulator, uid):
    ddb, backup, kms = emulator.client("dynamodb"), emulator.client("backup"), emulator.client("kms")
    name, vault = uid("src"), uid("vault")
    make_table(ddb, name, items=5)
    backup.create_backup_vault(BackupVaultName=vault)
    rp = backup.start_backup_job(BackupVaultName=vault, ResourceArn=table_arn(name), IamRoleArn=role())["RecoveryPointArn"]
    key = kms.create_key()["KeyMetadata"]

    def work(i: int):
        # A client per thread, as SDK users in separate tasks would have.
        kind = i % 6
        if kind == 0:
            b = emulator.client("backup")
            job = b.start_restore_job(RecoveryPointArn=rp, IamRoleArn=role(), IdempotencyToken=f"tok-{i // 12}",
                                      Metadata={"targetTableName": f"{name}-r{i // 12}"})
            return ("restore", job["RestoreJobId"])
        if kind == 1:
            return ("rps", len(emulator.client("backup").list_recovery_points_by_backup_vault(BackupVaultName=vault)["RecoveryPoints"]))
        if kind == 2:
            k = emulator.client("kms")
            blob = k.encrypt(KeyId=key["KeyId"], Plaintext=f"n{i}".encode())["CiphertextBlob"]
            return ("kms", k.decrypt(CiphertextBlob=blob)["Plaintext"].decode())
        if kind == 3:
            d = emulator.client("dynamodb")
            d.put_item(TableName=name, Item={"pk": {"S": f"par{i}"}, "sk": {"S": "s"}})
            return ("put", i)
        if kind == 4:
            return ("describe", emulator.client("dynamodb").describe_table(TableName=name)["Table"]["TableStatus"])
        return ("key", emulator.client("kms").describe_key(KeyId="alias/aws/dynamodb")["KeyMetadata"]["KeyManager"])

    with concurrent.futures.ThreadPoolExecutor(60) as pool:
        results = list(pool.map(work, range(60)))

    restores = [r[1] for r in results if r[0] == "restore"]
    assert len(restores) == 10
    # Same token in the same account: one job per token, however the calls interleaved.
    assert len(set(restores)) == 5
    assert all(r[1] == 1 for r in results if r[0] == "rps")
    assert sorted(r[1] for r in results if r[0] == "kms") == sorted(f"n{i}" for i in range(60) if i % 6 == 2)
    assert {r[1] for r in results if r[0] == "describe"} == {"ACTIVE"}
    assert {r[1] for r in results if r[0] == "key"} == {"AWS"}
    assert ddb.scan(TableName=name)["Count"] == 5 + 10
    # One AWS managed key per account and Region, even when 10 calls created it at once.
    aliases = [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == "alias/aws/dynamodb"]
    assert len(aliases) == 1
    for job in set(restores):
        assert wait_restore_job(backup, job)["Status"] == "COMPLETED"
