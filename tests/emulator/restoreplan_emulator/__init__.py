"""restoreplan's local AWS emulator: moto's server plus what moto lacks.

The extension is a WSGI layer in front of moto's server application. It
identifies every AWS request (service, operation, account, Region), injects
faults when asked to, answers the operations moto does not have (most of AWS
Backup's job and recovery point API, vault access policies, restore
validation results, native DynamoDB restores with their duration model,
contributor insights, Kinesis streaming destinations), and patches moto's
backends where moto answers differently from AWS (KMS key managers,
multi-Region replicas, cross-account key use, DryRun, DynamoDB restore
overrides, consumed read capacity, Step Functions tasks that must call back
into the emulator as their role's account).
"""

VERSION = "1"
