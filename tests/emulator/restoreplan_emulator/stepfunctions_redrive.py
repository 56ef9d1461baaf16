"""RedriveExecution, and the Distributed Map failure threshold, for moto's interpreter.

moto 5.2.5 has no RedriveExecution, and its Distributed Map never fails for a
failed child execution (the child's output is just null). As AWS documents
them (API_RedriveExecution, "Redriving executions", "Redriving Map Runs"):

- only a Standard execution that is FAILED, ABORTED or TIMED_OUT, and stopped
  less than 14 days ago (on the emulator's clock), can be redriven; otherwise
  `ExecutionNotRedrivable`, with the reason DescribeExecution gives in
  `redriveStatusReason` ("Execution is SUCCEEDED and cannot be redriven.");
- a redrive continues from the state that did not succeed (a state entered
  with no exit: the failed Task, the failed Map, a Fail state), with the
  input that state had; the states that succeeded are not run again. The
  execution keeps its ARN, its history (an `ExecutionRedriven` event, then
  the new events) and its input; `redriveCount` grows by one and
  DescribeExecution shows `redriveCount`, `redriveDate`, `redriveStatus` and
  `redriveStatusReason`. RedriveExecution answers `redriveDate`. The last 10
  `clientToken`s of successful redrives answer the same `redriveDate` for 15
  minutes without a second redrive;
- a Map state (Inline or Distributed) that is redriven runs again only its
  iterations (child executions) that did not succeed; each is itself
  redriven from the state it stopped in, with that state's input, and the
  iterations that succeeded keep their output;
- a Distributed Map fails (`States.ExceedToleratedFailureThreshold`) when
  more of its child executions failed, aborted or timed out than
  `ToleratedFailureCount` and `ToleratedFailurePercentage` allow (0 and 0 when
  absent). AWS stops the running children at that moment; here the Map Run
  waits for them, then fails. A failure within a threshold of both fields is
  tolerated (AWS fails when either is exceeded and only the fields given
  apply; machines that give one field should give both).

How: every state an execution enters is recorded per program instance (the
execution itself, each Map iteration, keyed by the Map state's name and the
item's index below its parent's key), with its input, whether it exited
and the state it went on to; only the latest state of each instance is kept,
since an instance runs one state at a time. A redrive starts a new
interpreter on the same execution at the recorded state.
"""

from __future__ import annotations

import copy
import datetime
import threading
import time
from typing import Any

REDRIVABLE_PERIOD = datetime.timedelta(days=14)
TOKEN_WINDOW_SECONDS = 15 * 60
TOKENS_KEPT = 10

_records: dict[str, "_ExecutionRecord"] = {}
_records_lock = threading.Lock()


class _Program:
    """One program instance: the execution, or one Map iteration."""

    __slots__ = ("name", "input", "exited", "next", "output", "ended")

    def __init__(self) -> None:
        self.name: str | None = None
        self.input: Any = None
        self.exited = False
        self.next: str | None = None
        self.output: Any = None
        self.ended = False  # the iteration succeeded, with `output`


class _ExecutionRecord:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.programs: dict[tuple, _Program] = {(): _Program()}
        self.children: dict[tuple, set[tuple]] = {}
        # Map states being re-run by a redrive: (path, state name).
        self.active: set[tuple] = set()
        # The state a redriven program instance resumes at, by path.
        self.resuming: dict[tuple, str] = {}
        self.redrive_count = 0
        self.redrive_date: datetime.datetime | None = None
        self.tokens: list[tuple[str, float, datetime.datetime]] = []

    def drop_children(self, key: tuple) -> None:
        for child in self.children.pop(key, set()):
            self.programs.pop(child, None)
            for sub in [k for k in self.children if k[0] == child]:
                self.drop_children(sub)

    def resume_point(self, path: tuple) -> tuple[str, Any] | None:
        program = self.programs.get(path)
        if program is None or program.name is None:
            return None
        if not program.exited:
            return program.name, copy.deepcopy(program.input)
        if program.next:
            return program.next, copy.deepcopy(program.output)
        return None


def _record_for(env: Any) -> _ExecutionRecord | None:
    try:
        arn = env.states.context_object.context_object_data["Execution"]["Id"]
    except (AttributeError, KeyError, TypeError):
        return None
    with _records_lock:
        return _records.get(arn)


def _path(env: Any) -> tuple:
    return getattr(env, "_rp_path", ())


def redrive_status(execution: Any) -> tuple[str, str | None]:
    """DescribeExecution's `redriveStatus` and `redriveStatusReason`."""
    status = execution.exec_status.value if execution.exec_status is not None else "RUNNING"
    if getattr(execution, "sm_type", None) is not None and str(getattr(execution.sm_type, "value", execution.sm_type)) == "EXPRESS":
        return "NOT_REDRIVABLE", "Execution is EXPRESS and cannot be redriven."
    if status in ("RUNNING", "SUCCEEDED"):
        return "NOT_REDRIVABLE", f"Execution is {status} and cannot be redriven."
    stopped = execution.stop_date
    if stopped is not None and datetime.datetime.now(tz=datetime.timezone.utc) - _aware(stopped) > REDRIVABLE_PERIOD:
        return "NOT_REDRIVABLE", "Execution redrivable period exceeded."
    with _records_lock:
        known = execution.exec_arn in _records
    if not known or execution.exec_worker is None or execution.exec_worker.env is None:
        return "NOT_REDRIVABLE", "Execution was started before the launch of RedriveExecution."
    return "REDRIVABLE", None


def _aware(value: datetime.datetime) -> datetime.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=datetime.timezone.utc)


def redrive(backend: Any, execution_arn: str, client_token: str | None) -> datetime.datetime:
    """RedriveExecution: returns `redriveDate`; raises ExecutionNotRedrivable."""
    from moto.core.exceptions import AWSError
    from moto.stepfunctions.parser.api import ExecutionStatus, HistoryEventType

    class ExecutionNotRedrivable(AWSError):
        TYPE = "ExecutionNotRedrivable"
        STATUS = 400
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    execution = backend.describe_execution(execution_arn)
    with _records_lock:
        record = _records.get(execution.exec_arn)
    now_mono = time.monotonic()
    if record is not None and client_token:
        with record.lock:
            for token, used, date in record.tokens:
                if token == client_token and now_mono - used <= TOKEN_WINDOW_SECONDS:
                    return date
    status, reason = redrive_status(execution)
    if status != "REDRIVABLE":
        raise ExecutionNotRedrivable(reason)
    assert record is not None
    with record.lock:
        resume = record.resume_point(())
        record.redrive_count += 1
        record.redrive_date = datetime.datetime.now(tz=datetime.timezone.utc)
        date = record.redrive_date
        count = record.redrive_count
        if client_token:
            record.tokens.append((client_token, now_mono, date))
            del record.tokens[:-TOKENS_KEPT]
        # The Map states that did not exit are redriven: their iterations
        # that succeeded keep their output.
        record.active.clear()
        record.resuming.clear()

    old_env = execution.exec_worker.env
    worker = execution._get_start_execution_worker()
    program = worker._get_evaluation_entrypoint()
    env = worker._get_evaluation_environment()
    env.event_manager = old_env.event_manager
    env.map_run_record_pool_manager = old_env.map_run_record_pool_manager
    env._rp_path = ()
    env._rp_resume = resume
    try:
        env.states.context_object.context_object_data["Execution"]["RedriveCount"] = count
    except (KeyError, TypeError):
        pass
    worker.env = env
    execution.exec_worker = worker
    execution.exec_status = ExecutionStatus.RUNNING
    execution.stop_date = None
    execution.error = None
    execution.cause = None
    execution.output = None
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.ExecutionRedriven,
        event_details=EventDetails(executionRedrivenEventDetails={"redriveCount": count}),
        update_source_event_id=False,
    )

    def run() -> None:
        program.eval(env)
        worker._execution_communication.terminated()

    from moto.stepfunctions.parser.utils import TMP_THREADS

    thread = threading.Thread(target=run, daemon=True)
    TMP_THREADS.append(thread)
    thread.start()
    return date


def describe_fields(execution: Any) -> dict[str, Any]:
    with _records_lock:
        record = _records.get(execution.exec_arn)
    out: dict[str, Any] = {"redriveCount": record.redrive_count if record else 0}
    if record is not None and record.redrive_date is not None:
        out["redriveDate"] = record.redrive_date
    status, reason = redrive_status(execution)
    out["redriveStatus"] = status
    if reason:
        out["redriveStatusReason"] = reason
    return out


def apply_patches() -> None:
    from moto.stepfunctions import responses
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import distributed_iteration_component
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iteration_worker import IterationWorker
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
        distributed_item_processor_worker,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iterator import (
        distributed_iterator_worker,
    )
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded, ProgramRunning
    from moto.stepfunctions.parser.backend.execution import Execution, SyncExecution
    from moto.stepfunctions.parser.utils import TMP_THREADS

    # Every Standard execution is recorded from its start.
    original_start = Execution.start

    def start(self: Any) -> None:
        if not isinstance(self, SyncExecution):
            with _records_lock:
                _records[self.exec_arn] = _ExecutionRecord()
        original_start(self)

    Execution.start = start

    # Frames carry the program instance they belong to.
    original_inner_frame = Environment.as_inner_frame_of.__func__

    def as_inner_frame_of(cls: Any, env: Any, *args: Any, **kwargs: Any) -> Any:
        frame = original_inner_frame(cls, env, *args, **kwargs)
        frame._rp_path = _path(env)
        return frame

    Environment.as_inner_frame_of = classmethod(as_inner_frame_of)

    # A program instance that is redriven starts at its recorded state.
    def program_eval(self: Any, env: Any) -> None:
        timeout = self.timeout_seconds.timeout_seconds if self.timeout_seconds else None
        env.next_state_name = self.start_at.start_at_name
        resume = getattr(env, "_rp_resume", None)
        if resume is not None:
            env._rp_resume = None
            env.next_state_name = resume[0]
            env.states.reset(input_value=resume[1])
            record = _record_for(env)
            if record is not None:
                with record.lock:
                    record.resuming[_path(env)] = resume[0]
        worker_thread = threading.Thread(target=super(Program, self).eval, args=(env,), daemon=True)
        TMP_THREADS.append(worker_thread)
        worker_thread.start()
        worker_thread.join(timeout=timeout)
        if worker_thread.is_alive():
            env.set_timed_out()

    Program.eval = program_eval

    # Each state entered, with its input; whether it exited, and where to.
    original_state_body = CommonStateField._eval_body

    def state_body(self: Any, env: Any) -> None:
        record = _record_for(env)
        if record is None:
            return original_state_body(self, env)
        path = _path(env)
        key = (path, self.name)
        with record.lock:
            if record.resuming.get(path) == self.name:
                # Re-entered by a redrive: a Map state re-runs only the
                # iterations that did not succeed.
                del record.resuming[path]
                record.active.add(key)
            else:
                record.drop_children(key)
            program = record.programs.setdefault(path, _Program())
            program.name, program.input = self.name, copy.deepcopy(env.states.get_input())
            program.exited, program.next, program.output = False, None, None
        try:
            original_state_body(self, env)
            state = env.program_state()
            if isinstance(state, (ProgramRunning, ProgramEnded)):
                with record.lock:
                    program.exited = True
                    if isinstance(state, ProgramRunning):
                        program.next = env.next_state_name
                        program.output = copy.deepcopy(env.states.get_input())
        finally:
            with record.lock:
                record.active.discard(key)

    CommonStateField._eval_body = state_body

    # Map iterations: a redriven Map keeps the iterations that succeeded and
    # resumes the others where they stopped.
    def wrap_job(original: Any, distributed: bool) -> Any:
        def _eval_job(self: Any, env: Any, job: Any) -> None:
            record = _record_for(env)
            if record is None:
                return original(self, env, job)
            parent = _path(self._env)
            map_key = (parent, self._work_name)
            path = parent + ((self._work_name, job.job_index),)
            env._rp_path = path
            with record.lock:
                previous = record.programs.get(path) if map_key in record.active else None
                if previous is not None and previous.ended:
                    job.job_output = copy.deepcopy(previous.output)
                    if distributed:
                        counters = self._map_run_record
                        for counter in (counters.item_counter, counters.execution_counter):
                            counter.total.count()
                            counter.succeeded.count()
                            counter.results_written.count()
                    return
                if previous is not None:
                    env._rp_resume = record.resume_point(path)
                program = _Program()
                record.programs[path] = program
                record.children.setdefault(map_key, set()).add(path)
            original(self, env, job)
            state = env.program_state()
            succeeded = isinstance(state, ProgramEnded) and not isinstance(job.job_output, Exception)
            with record.lock:
                program.ended = succeeded
                program.output = copy.deepcopy(job.job_output) if succeeded else None
            if distributed and not succeeded:
                counters = self._map_run_record
                with record.lock:
                    counters._rp_failed = getattr(counters, "_rp_failed", 0) + 1

        return _eval_job

    IterationWorker._eval_job = wrap_job(IterationWorker._eval_job, False)
    for module, name in ((distributed_item_processor_worker, "DistributedItemProcessorWorker"),
                         (distributed_iterator_worker, "DistributedIteratorWorker")):
        cls = getattr(module, name)
        cls._eval_job = wrap_job(cls._eval_job, True)

    # The Distributed Map's failure threshold.
    original_map_run = distributed_iteration_component.DistributedIterationComponent._map_run

    def _map_run(self: Any, env: Any, eval_input: Any) -> None:
        original_map_run(self, env, eval_input)
        record = eval_input.map_run_record
        failed = getattr(record, "_rp_failed", 0)
        outputs = env.stack[-1] if env.stack else []
        total = max(1, len(outputs) if isinstance(outputs, list) else 1)
        count = eval_input.tolerated_failure_count or 0
        percentage = eval_input.tolerated_failure_percentage or 0.0
        if failed and failed > count and failed * 100.0 / total > percentage:
            env.stack.pop()
            error = StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold)
            cause = "The specified tolerated failure threshold was exceeded"
            raise FailureEventException(
                failure_event=FailureEvent(
                    env=env,
                    error_name=error,
                    event_type=HistoryEventType.MapRunFailed,
                    event_details=EventDetails(
                        executionFailedEventDetails=ExecutionFailedEventDetails(error=error.error_name, cause=cause)
                    ),
                )
            )

    distributed_iteration_component.DistributedIterationComponent._map_run = _map_run

    # The API: RedriveExecution, and the redrive fields of DescribeExecution.
    from moto.core.responses import ActionResult

    def redrive_execution(self: Any) -> Any:
        date = redrive(self.stepfunction_backend, self._get_param("executionArn"), self._get_param("clientToken"))
        return ActionResult({"redriveDate": date})

    responses.StepFunctionResponse.redrive_execution = redrive_execution

    original_describe = responses.StepFunctionResponse.describe_execution

    def describe_execution(self: Any) -> Any:
        result = original_describe(self)
        execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
        if hasattr(execution, "exec_worker"):
            result.result.update(describe_fields(execution))
            if execution.status == "TIMED_OUT" and execution.stop_date is not None:
                result.result["stopDate"] = execution.stop_date
        return result

    responses.StepFunctionResponse.describe_execution = describe_execution
