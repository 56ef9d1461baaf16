"""The emulator's HTTP server: moto's WSGI app behind restoreplan's extension.

Every AWS request goes through one lock, in order: the restore clock ticks,
the request is logged, a fault may be drawn, then the extension or moto
answers. moto's backends are plain dicts that concurrent requests could
corrupt, and the restore engine changes them from a background thread, so
serialising is what keeps 50+ parallel SDK calls safe; each call takes a few
milliseconds.

Control endpoints live under /_restoreplan/ and are never faulted or logged.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import sys
import threading
import time
import traceback
from datetime import datetime, timezone
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, unquote

from . import VERSION, autoscaling_fixes, clock, cloudwatch_fixes, config as config_module, dynamodb_fixes, kms_fixes, stepfunctions_fixes
from .backup import BackupStore
from .capacity import CapacityLedger
from .faults import FaultInjector
from .restores import RestoreEngine
from .wire import AwsError, AwsRequest, Response, error_response, plain_json

CONTROL_PREFIX = "/_restoreplan/"
_RESTORE_OPS = {"StartRestoreJob", "RestoreTableFromBackup", "RestoreTableToPointInTime"}


class Emulator:
    """The WSGI application."""

    def __init__(self, config: config_module.Config):
        from moto.server import DomainDispatcherApplication, create_backend_app

        kms_fixes.apply_patches()
        dynamodb_fixes.apply_patches()
        cloudwatch_fixes.apply_patches()
        autoscaling_fixes.apply_patches()
        self.lock = threading.RLock()
        self.config = config
        self.faults = FaultInjector(config)
        self.engine = RestoreEngine(config)
        self.backup = BackupStore(self.engine)
        self.backup.install()
        stepfunctions_fixes.install(self)
        self._push_moto_config()
        self.requests: list[dict[str, Any]] = []
        self.capacity = CapacityLedger()
        self.started = time.time()
        self.moto = DomainDispatcherApplication(create_backend_app)
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick_forever, name="restore-clock", daemon=True)
        self._ticker.start()

    # -- WSGI ----------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX) or path == CONTROL_PREFIX.rstrip("/"):
            response = self._control(environ)
        else:
            body = _read_body(environ)
            if path.startswith("/moto-api"):
                with self.lock:
                    response = self._call_moto(environ, body)
                    if path.rstrip("/") == "/moto-api/reset" and environ.get("REQUEST_METHOD") == "POST":
                        self.reset()
            else:
                response = self._aws(environ, body)
        start_response(f"{response.status} {_REASONS.get(response.status, 'Status')}", response.headers)
        return [response.body]

    def _aws(self, environ: dict[str, Any], body: bytes) -> Response:
        arrived = time.time()
        if self.config.delay_operations:
            # Held outside the lock: other requests go on meanwhile. A request
            # still held when its operation is taken off the list is dropped
            # (503, never reaching a backend), as one lost with its client.
            try:
                held = AwsRequest.from_environ(environ, body)
            except Exception:
                held = None
            operation = held.operation if held is not None else ""
            until = time.monotonic() + self.config.delay_operations.get(operation or "", 0.0)
            while time.monotonic() < until:
                if operation not in self.config.delay_operations:
                    return error_response(held, AwsError(
                        "ServiceUnavailable", "the request was dropped while it was held", 503))
                time.sleep(0.02)
        with self.lock:
            self.engine.tick()
            self.backup.tick()
            try:
                req = AwsRequest.from_environ(environ, body)
            except Exception:
                traceback.print_exc()
                return self._call_moto(environ, body)
            entry = _log_entry(req, arrived)
            fault = self.faults.draw(req) if req.is_aws else None
            if fault is not None:
                response = error_response(req, fault)
            else:
                response = self._dispatch(req, environ)
            entry["status"] = response.status
            entry["fault"] = fault is not None
            entry["error_code"] = response.error_code()
            self.requests.append(entry)
            return response

    def _dispatch(self, req: AwsRequest, environ: dict[str, Any]) -> Response:
        def call_moto(account: str | None = None, body: bytes | None = None) -> Response:
            # Handlers may re-run the request in another account or with a changed body.
            return self._call_moto(environ, req.body if body is None else body, account)

        try:
            handled = None
            if req.service == "backup":
                handled = self.backup.handle(req)
            elif req.service == "kms":
                handled = kms_fixes.handle(req, call_moto)
            elif req.service == "dynamodb":
                handled = dynamodb_fixes.handle(self, req, call_moto)
            elif req.service == "states":
                stepfunctions_fixes.ensure_patched()
            response = handled if handled is not None else call_moto()
        except AwsError as err:
            return error_response(req, err)
        except NotImplementedError:
            # moto's stub for an operation it lists but does not implement.
            return _unknown_operation(req)
        except Exception as exc:
            # A bug in the emulator: answer like AWS would (a retryable 500), say why on stderr.
            traceback.print_exc()
            return error_response(req, AwsError("InternalFailure", f"emulator error: {type(exc).__name__}: {exc}", 500))
        if response.status == 404 and (response.header("Content-Type") or "").startswith("text/html"):
            # moto's HTML 404 means "no such operation"; SDKs cannot parse HTML.
            return _unknown_operation(req)
        return response

    def _call_moto(self, environ: dict[str, Any], body: bytes, account: str | None = None) -> Response:
        env = dict(environ)
        env["wsgi.input"] = io.BytesIO(body)
        env["CONTENT_LENGTH"] = str(len(body))
        if account is not None:
            env["HTTP_X_MOTO_ACCOUNT_ID"] = account
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return chunks.append

        result = self.moto(env, start_response)
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return Response(int(captured["status"].split()[0]), list(captured["headers"]), b"".join(chunks))

    # -- moto's own configuration (POST /moto-api/config) ----------------------

    def _pull_moto_config(self) -> None:
        # /moto-api/config may have changed it behind the extension's back.
        from moto.core.config import default_user_config

        self.config.execute_state_machines = bool(
            default_user_config.get("stepfunctions", {}).get("execute_state_machine", False))

    def _push_moto_config(self) -> None:
        from moto.core.config import default_user_config

        default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = self.config.execute_state_machines

    # -- state -----------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything the extension keeps, as moto's reset forgets its backends.

        The options stay; the fault sequence starts over from its seed.
        """
        with self.lock:
            self.engine.reset()
            self.backup.reset()
            self.capacity.reset()
            self.requests.clear()
            self.faults.reseed()

    def _tick_forever(self) -> None:
        # Finishes restores when nobody polls, so tables appear on time.
        while not self._stop.is_set():
            with self.lock:
                self.engine.tick()
                self.backup.tick()
                deadlines = [d for d in (self.engine.next_deadline(), self.backup.next_deadline()) if d is not None]
                deadline = min(deadlines) if deadlines else None
            wait = 0.25 if deadline is None else min(0.25, max(0.005, deadline - time.time()))
            # A relative sleep, not Event.wait(timeout): a timed wait takes an
            # absolute deadline, which a clock shifted by libfaketime (the
            # shifted test runs) puts hundreds of days away.
            time.sleep(wait)

    def stop(self) -> None:
        self._stop.set()

    # -- control endpoints -----------------------------------------------------

    def _control(self, environ: dict[str, Any]) -> Response:
        method = environ.get("REQUEST_METHOD", "GET")
        raw = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")).split("?")[0]
        route = raw[len(CONTROL_PREFIX):].rstrip("/")
        try:
            body = _read_body(environ)
            payload = json.loads(body) if body.strip() else {}
        except ValueError:
            return plain_json(400, {"error": "the body is not valid JSON"})
        with self.lock:
            self.engine.tick()
            self.backup.tick()
            if route == "health" and method == "GET":
                from moto import __version__ as moto_version

                return plain_json(200, {
                    "status": "ok",
                    "emulator_version": VERSION,
                    "moto_version": moto_version,
                    "uptime_seconds": round(time.time() - self.started, 3),
                    # The emulator's current time, on the clock `--now` set.
                    "now": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
                })
            if route == "requests" and method == "GET":
                return plain_json(200, {"requests": list(self.requests)})
            if route == "requests" and method == "DELETE":
                count = len(self.requests)
                self.requests.clear()
                return plain_json(200, {"cleared": count})
            if route == "restores" and method == "GET":
                return plain_json(200, {
                    "restores": [r.to_json() for r in self.engine.restores],
                    "max_concurrent": self.engine.max_concurrent(),
                })
            if route == "capacity" and method == "GET":
                table = (parse_qs(environ.get("QUERY_STRING", "")).get("table") or [None])[0]
                return plain_json(200, self.capacity.to_json(table))
            if route == "capacity" and method == "DELETE":
                self.capacity.reset()
                return plain_json(200, {"cleared": True})
            if route == "config" and method == "GET":
                self._pull_moto_config()
                return plain_json(200, self.config.to_json())
            if route == "config" and method == "POST":
                self._pull_moto_config()
                try:
                    self.config.update(payload)
                except ValueError as err:
                    return plain_json(400, {"error": str(err)})
                self._push_moto_config()
                if "fault_seed" in payload or "fault-seed" in payload:
                    self.faults.reseed()
                return plain_json(200, self.config.to_json())
            if route == "reset" and method == "POST":
                from moto.moto_api._internal.models import moto_api_backend

                moto_api_backend.reset()
                self.reset()
                return plain_json(200, {"status": "reset"})
            if route.startswith("recovery-points/") and method in ("GET", "POST"):
                arn = unquote(route[len("recovery-points/"):])
                try:
                    if method == "GET":
                        return plain_json(200, self.backup.control_recovery_point(arn, {}))
                    return plain_json(200, self.backup.control_recovery_point(arn, payload))
                except KeyError:
                    return plain_json(404, {"error": f"no recovery point {arn}"})
                except ValueError as err:
                    return plain_json(400, {"error": str(err)})
        return plain_json(404, {"error": f"no control endpoint {method} {CONTROL_PREFIX}{route}"})


def _unknown_operation(req: AwsRequest) -> Response:
    # A 400, so SDKs fail at once instead of retrying a 500.
    return error_response(req, AwsError(
        "UnknownOperationException", f"the emulator does not implement {req.service} {req.operation}"))


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    if length > 0:
        return stream.read(length)
    if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
        return stream.read()
    return b""


def _log_entry(req: AwsRequest, arrived: float) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "time": arrived,
        "service": req.service,
        "operation": req.operation,
        "account": req.account,
        "region": req.region,
        "request_id": req.request_id,
        "target_table": None,
        "idempotency_token": None,
        "table": None,
    }
    if req.service == "dynamodb":
        entry["table"] = _table_named(req)
    if req.operation in _RESTORE_OPS:
        try:
            params = req.json()
        except AwsError:
            params = {}
        if req.operation == "StartRestoreJob":
            meta = params.get("Metadata") if isinstance(params.get("Metadata"), dict) else {}
            entry["target_table"] = next((v for k, v in meta.items() if str(k).lower() == "targettablename"), None)
            entry["idempotency_token"] = params.get("IdempotencyToken")
        else:
            entry["target_table"] = params.get("TargetTableName")
    return entry


def _table_named(req: AwsRequest) -> str | None:
    """The DynamoDB table a request acts on, so a harness can follow each table's calls.

    `TableName`, the target of a restore, or the table of `ResourceArn`/`TableArn`
    (tagging calls name the table by ARN).
    """
    try:
        params = req.json()
    except AwsError:
        return None
    if not isinstance(params, dict):
        return None
    for key in ("TableName", "TargetTableName"):
        name = params.get(key)
        if isinstance(name, str) and name:
            return name
    for key in ("ResourceArn", "TableArn"):
        arn = params.get(key)
        if isinstance(arn, str) and ":table/" in arn:
            return arn.split(":table/", 1)[1].split("/", 1)[0] or None
    return None


_REASONS = {
    200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
    412: "Precondition Failed", 500: "Internal Server Error", 503: "Service Unavailable",
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="tests/emulator/serve",
        description="restoreplan's local AWS emulator (moto plus AWS Backup restores, KMS and DynamoDB fixes). "
                    "Binds 127.0.0.1 only.",
    )
    parser.add_argument("--port", type=int, required=True, help="TCP port; 0 picks a free one")
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request to stderr")
    parser.add_argument("--now", default=None, metavar="TIME",
                        help="start the emulator's clock at TIME (RFC 3339); default: $RESTOREPLAN_NOW, else the wall clock")
    config_module.add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        config = config_module.from_arguments(args)
        clock.start(args.now)
    except ValueError as err:
        parser.error(str(err))

    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    class Handler(MotoRequestHandler):
        def log_request(self, *a: Any, **k: Any) -> None:
            if args.verbose:
                super().log_request(*a, **k)

    app = Emulator(config)
    try:
        server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=Handler)
    except OSError as err:
        print(f"restoreplan-emulator: cannot listen on 127.0.0.1:{args.port}: {err}", file=sys.stderr)
        sys.exit(2)

    def shutdown(signum: int, frame: Any) -> None:
        app.stop()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    # moto's Step Functions interpreter sends a state machine's AWS SDK tasks
    # to http://localhost:$MOTO_PORT: this emulator.
    os.environ["MOTO_PORT"] = str(server.server_port)
    stepfunctions_fixes.set_port(server.server_port)
    print(f"restoreplan-emulator listening on http://127.0.0.1:{server.server_port}", flush=True)
    # Nothing else may reach stdout (moto prints there): a harness that reads
    # only the first line and never drains the pipe would block the server.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    server.serve_forever()
