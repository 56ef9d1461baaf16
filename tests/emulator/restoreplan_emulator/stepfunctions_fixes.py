"""Step Functions executions that call back into the emulator, as AWS runs them.

moto 5.2.5 interprets state machines when `{"stepfunctions":
{"execute_state_machine": true}}` is set (the `execute_state_machines`
option, or POST /moto-api/config). Its interpreter runs every execution in a
thread of the server and sends AWS SDK integration tasks
(`arn:aws:states:::aws-sdk:SERVICE:action`) and optimized integrations
(`arn:aws:states:::dynamodb:getItem`, ...) as HTTP requests with boto3. The
patches here make those tasks behave as in AWS:

- `aws-sdk:applicationautoscaling:…` and the other services whose Step
  Functions name is not boto3's reach the right service;
- they go to this emulator's own port (and `serve` exports MOTO_PORT), so
  they are logged, faulted and answered by the extension like any request;
- they act as the role Step Functions assumes: the task's `Credentials`
  `RoleArn` when it has one, else the state machine's role, so a state
  machine's tasks act in the role's account (moto ran everything in
  123456789012); a task's `Credentials` role must exist in its account, as
  in AWS, where assuming a missing role is denied: the task fails
  (`States.TaskFailed`, STS's AccessDenied words in the cause);
- a failed AWS SDK task names its error `Service.ErrorCodeException` with the
  service in PascalCase as AWS does (`Backup.ThrottlingException`,
  `DynamoDb.ResourceNotFoundException`), not moto's `backup.backupException`;
- timestamps in SDK task results are ISO 8601 strings and blobs base64
  text, as AWS puts them in the state's JSON, so DescribeExecution can
  render the output;
- an execution started without a name gets a UUID, as in AWS;
- `Wait` states with `Seconds`/`SecondsPath` and `Retry` intervals are
  multiplied by the emulator's `time_scale`, like every modeled duration, so
  a poll loop written for AWS timings runs at the emulator's speed;
- RedriveExecution, and a Distributed Map that fails past its tolerated
  failures (`stepfunctions_redrive`).
"""

from __future__ import annotations

import base64
import datetime
import functools
import re
import threading
import time
import uuid
from typing import Any

ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/.+$")

# The emulator these patches serve: set by install().
_state: dict[str, Any] = {}
_credentials_cache: dict[str, tuple[str, str, str]] = {}
_cache_lock = threading.Lock()
_client_lock = threading.Lock()


def install(emulator: Any) -> None:
    """Remembers the emulator; the patches wait until executions are switched on.

    Importing moto's interpreter takes seconds, so a start of the emulator
    does not pay for it; `ensure_patched` runs before every Step Functions
    request, and an execution can only start through one.
    """
    _state["emulator"] = emulator


def ensure_patched() -> None:
    from moto.core.config import default_user_config

    if not _applied and default_user_config.get("stepfunctions", {}).get("execute_state_machine", False):
        apply_patches()


def set_port(port: int) -> None:
    _state["port"] = port


def _time_scale() -> float:
    emulator = _state.get("emulator")
    return emulator.config.time_scale if emulator is not None else 1.0


# ---------------------------------------------------------------------------
# Credentials: what the task acts as.


class TaskRoleDenied(Exception):
    """Step Functions could not assume a task's `Credentials` role."""


def _role_exists(account: str, role_arn: str) -> bool:
    from moto.iam.models import iam_backends

    name = role_arn.rsplit("/", 1)[-1]
    return any(role.name == name and role.arn == role_arn
               for role in iam_backends[account]["global"].roles.values())


def _assumed_credentials(role_arn: str, must_exist: bool = False, assumer: str = "") -> tuple[str, str, str]:
    """Session credentials of `role_arn` from moto's STS, made in-process under the emulator's lock.

    `must_exist`: a task's `Credentials` role, which AWS refuses to assume
    when it does not exist; the state machine's own role is not checked.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    found = ROLE_ARN.match(role_arn)
    account = found.group(1)
    with _cache_lock:
        cached = _credentials_cache.get(role_arn)
    emulator = _state.get("emulator")
    lock = emulator.lock if emulator is not None else threading.RLock()
    with lock:
        if must_exist and not _role_exists(account, role_arn):
            raise TaskRoleDenied(
                f"User: {assumer} is not authorized to perform: sts:AssumeRole on resource: {role_arn} "
                f"(Service: Sts, Status Code: 403, Error Code: AccessDenied)")
        if cached is not None and cached[0] in iam_backends[account]["global"].access_keys:
            return cached
        role = sts_backends[DEFAULT_ACCOUNT_ID]["aws"].assume_role(
            region_name="us-east-1", role_session_name="states-task", role_arn=role_arn,
            policy=None, duration=3600, external_id=None,
        )
        creds = (role.access_key_id, role.secret_access_key, role.session_token)
    with _cache_lock:
        _credentials_cache[role_arn] = creds
    return creds


def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    """moto's boto_client_for, pointed at this emulator and acting as the task's role."""
    import boto3
    from botocore.config import Config
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

    role_arn = getattr(state_credentials, "role_arn", None)
    kwargs: dict[str, Any] = {"aws_access_key_id": "ak", "aws_secret_access_key": "sk"}
    account = None
    if isinstance(role_arn, str) and ROLE_ARN.match(role_arn):
        key, secret, token = _assumed_credentials(
            role_arn, must_exist=bool(getattr(state_credentials, "_rp_task_role", False)),
            assumer=getattr(state_credentials, "_rp_assumer", ""))
        kwargs = {"aws_access_key_id": key, "aws_secret_access_key": secret, "aws_session_token": token}
    else:
        # No usable role: act in the execution's own account.
        account = getattr(state_credentials, "_rp_execution_account", None)
    port = _state.get("port") or moto_server_port()
    # Parallel and Map branches create clients at once; a boto3 session is not
    # safe for that, so creation is serialised on one session.
    with _client_lock:
        if "session" not in _state:
            _state["session"] = boto3.session.Session()
        client = _state["session"].client(
            service_name=service,
            region_name=region,
            endpoint_url=f"http://127.0.0.1:{port}",
            config=Config(
                parameter_validation=False,
                retries={"max_attempts": 0, "total_max_attempts": 1},
                connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
            ),
            **kwargs,
        )
    if account:
        client.meta.events.register(
            "before-sign.*.*", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account)
        )
    return client


# ---------------------------------------------------------------------------
# Error names and results of AWS SDK integrations.


# Step Functions' AWS SDK service names that are not boto3's.
_SDK_SERVICE_NAMES = {"sfn": "stepfunctions", "states": "stepfunctions", "cloudwatchlogs": "logs",
                      "eventbridge": "events", "elasticloadbalancingv2": "elbv2", "elasticloadbalancing": "elb"}


@functools.lru_cache(maxsize=1)
def _available_services() -> tuple[str, ...]:
    import botocore.session

    return tuple(botocore.session.get_session().get_available_services())


def boto_service_name(sdk_name: str) -> str:
    """boto3's name for a service as `arn:aws:states:::aws-sdk:NAME:action` names it.

    AWS writes the service in lower case without dashes (`applicationautoscaling`
    for boto3's `application-autoscaling`).
    """
    if sdk_name in _SDK_SERVICE_NAMES:
        return _SDK_SERVICE_NAMES[sdk_name]
    available = _available_services()
    if sdk_name in available:
        return sdk_name
    return next((name for name in available if name.replace("-", "") == sdk_name), sdk_name)


def pascal_service_name(service: str) -> str:
    """The PascalCase service name AWS puts before SDK integration errors.

    From the service's id, each word with its runs of capitals lowered after
    the first letter, as the AWS SDK for Java 2.x names its clients:
    DynamoDB -> DynamoDb, KMS -> Kms, Application Auto Scaling ->
    ApplicationAutoScaling, ACM PCA -> AcmPca.
    """
    from .wire import service_model

    model = service_model(service)
    service_id = model.metadata.get("serviceId", service) if model is not None else service
    words = re.split(r"[\s_-]+", service_id)
    out = []
    for word in words:
        if not word:
            continue
        word = word[0].upper() + word[1:]
        out.append(re.sub(r"[A-Z]{2,}", lambda m: m.group(0)[0] + m.group(0)[1:].lower(), word))
    return "".join(out)


def sdk_error_name(service: str, code: str) -> str:
    """`Service.CodeException`, the Error of a failed AWS SDK integration task."""
    name = code.split(":")[0].split("#")[-1] or "Unknown"
    if not name.endswith("Exception"):
        name += "Exception"
    return f"{pascal_service_name(service)}.{name}"


def iso_timestamp(value: datetime.datetime) -> str:
    """A timestamp as AWS writes SDK results into state JSON: ISO 8601 in UTC with Z."""
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        fraction = f"{value.microsecond:06d}"
        text += "." + (fraction[:3] if fraction.endswith("000") else fraction)
    return text + "Z"


def jsonable(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        # Blobs (a KMS ciphertext, random bytes) are base64 text in the state's JSON.
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, datetime.datetime):
        return iso_timestamp(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


# ---------------------------------------------------------------------------
# Patches.


_applied = False


def apply_patches() -> None:
    global _applied
    if _applied:
        return
    _applied = True
    import importlib
    import sys

    from botocore.exceptions import ClientError
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_aws_sdk as sdk
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import timestamp as wait_timestamp
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    # Every module of the interpreter that imported boto_client_for.
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and hasattr(module, "boto_client_for"):
            module.boto_client_for = boto_client_for
    for name in (
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
        "moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3",
        "moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3",
    ):
        try:
            importlib.import_module(name).boto_client_for = boto_client_for
        except ImportError:
            pass
    for service in ("aws_sdk", "dynamodb", "sfn", "sqs", "sns", "events", "ecs", "batch", "glue", "unsupported"):
        try:
            module = importlib.import_module(
                f"moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_{service}")
        except ImportError:
            continue
        if hasattr(module, "boto_client_for"):
            module.boto_client_for = boto_client_for

    # The execution's account travels with the task's credentials.
    original_credentials = state_task.StateTask._eval_state_credentials

    def _eval_state_credentials(self: Any, env: Any) -> Any:
        credentials = original_credentials(self, env)
        try:
            credentials._rp_execution_account = env.aws_execution_details.account
            machine_role = env.aws_execution_details.role_arn
            credentials._rp_task_role = self.credentials is not None and credentials.role_arn != machine_role
            found = ROLE_ARN.match(machine_role or "")
            credentials._rp_assumer = (
                f"arn:aws:sts::{found.group(1)}:assumed-role/{machine_role.rsplit('/', 1)[-1]}/states-task"
                if found else str(machine_role))
        except AttributeError:
            pass
        return credentials

    state_task.StateTask._eval_state_credentials = _eval_state_credentials

    # Error names of AWS SDK integrations.
    original_from_error = sdk.StateTaskServiceAwsSdk._from_error

    def _from_error(self: Any, env: Any, ex: Exception) -> FailureEvent:
        if not isinstance(ex, ClientError):
            return original_from_error(self, env, ex)
        service = self._get_boto_service_name()
        code = ex.response.get("Error", {}).get("Code") or ""
        error = sdk_error_name(service, code) if code else f"{pascal_service_name(service)}.{pascal_service_name(service)}Exception"
        meta = ex.response.get("ResponseMetadata", {})
        cause = (
            f"{ex.response.get('Error', {}).get('Message', '')} (Service: {pascal_service_name(service)}, "
            f"Status Code: {meta.get('HTTPStatusCode')}, Error Code: {code}, Request ID: {meta.get('RequestId')})"
        )
        return self._get_task_failure_event(env=env, error=error, cause=cause)

    sdk.StateTaskServiceAwsSdk._from_error = _from_error

    # A task role that could not be assumed fails the task (States.TaskFailed,
    # which a Catch of States.ALL catches), whatever the integration.
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service

    def denied_first(original: Any) -> Any:
        def _from_error(self: Any, env: Any, ex: Exception) -> FailureEvent:
            if isinstance(ex, TaskRoleDenied):
                return self._get_task_failure_event(env=env, error="States.TaskFailed", cause=str(ex))
            return original(self, env, ex)

        return _from_error

    service_classes = [state_task_service.StateTaskService]
    for service in ("aws_sdk", "dynamodb", "sfn", "sqs", "sns", "events", "ecs", "batch", "glue", "unsupported"):
        try:
            module = importlib.import_module(
                f"moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_{service}")
        except ImportError:
            continue
        service_classes += [c for c in vars(module).values()
                            if isinstance(c, type) and "_from_error" in vars(c) and c.__module__ == module.__name__]
    for cls in service_classes:
        cls._from_error = denied_first(cls._from_error)

    def _get_boto_service_name(self: Any, boto_service_name: str | None = None) -> str:
        return globals()["boto_service_name"](boto_service_name or self.resource.api_name)

    sdk.StateTaskServiceAwsSdk._get_boto_service_name = _get_boto_service_name

    # Timestamps in SDK results become strings.
    original_sdk_eval = sdk.StateTaskServiceAwsSdk._eval_service_task

    def _eval_service_task(self: Any, env: Any, *args: Any, **kwargs: Any) -> None:
        original_sdk_eval(self, env, *args, **kwargs)
        env.stack.append(jsonable(env.stack.pop()))

    sdk.StateTaskServiceAwsSdk._eval_service_task = _eval_service_task

    # Executions without a name get a UUID.
    original_start = StepFunctionsParserBackend.start_execution

    def start_execution(self: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any) -> Any:
        return original_start(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    StepFunctionsParserBackend.start_execution = start_execution

    # Wait states and Retry intervals on the emulator's time scale.
    def _eval_body(self: Any, env: Any) -> None:
        seconds = float(self._get_wait_seconds(env=env))
        if not isinstance(self, wait_timestamp.Timestamp):
            seconds *= _time_scale()
        deadline = time.monotonic() + max(0.0, seconds)
        while env.is_running():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            # Short relative sleeps, not Event.wait(timeout): a timed wait
            # takes an absolute deadline, which a clock shifted by libfaketime
            # puts hundreds of days away. The loop sees a stopped execution
            # within one slice.
            time.sleep(min(remaining, 0.05))

    wait_function.WaitFunction._eval_body = _eval_body

    class _ScaledTime:
        def __getattr__(self, name: str) -> Any:
            return getattr(time, name)

        @staticmethod
        def sleep(seconds: float) -> None:
            time.sleep(max(0.0, seconds) * _time_scale())

    retrier_decl.time = _ScaledTime()

    from . import stepfunctions_redrive

    stepfunctions_redrive.apply_patches()
