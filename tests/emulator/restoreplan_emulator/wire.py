"""What an AWS request is, and how AWS answers on the wire.

`AwsRequest` identifies a request the way AWS does: the service and Region
from the SigV4 credential scope, the account from the access key (moto maps
access keys, including AssumeRole session keys, to accounts) or moto's
`x-moto-account-id` header, and the operation from `X-Amz-Target`, the query
`Action`, or the REST method and path of the service's botocore model.

`Response` and the `*_response` helpers render answers in each protocol's
real shape, so the AWS SDKs (and the AWS CLI) parse errors into the right
codes and classify throttling and server errors as retryable.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote
from xml.sax.saxutils import escape

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/aws4_request")

DYNAMODB_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"


class AwsError(Exception):
    """An AWS error answer: code (`x-amzn-ErrorType`), message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def error_code(self) -> str | None:
        """The AWS error code of an error answer, whichever protocol rendered it."""
        if self.status < 400:
            return None
        code = self.header("x-amzn-ErrorType")
        if code:
            return code.split(":")[0].split("#")[-1]
        try:
            body = json.loads(self.body or b"{}")
            code = body.get("__type") or body.get("code") or body.get("Code")
            if code:
                return str(code).split("#")[-1]
        except (ValueError, AttributeError):
            match = re.search(rb"<Code>([^<]+)</Code>", self.body or b"")
            if match:
                return match.group(1).decode()
        return None


@functools.lru_cache(maxsize=None)
def service_model(service: str) -> Any:
    """The botocore model of a service (from the venv's botocore), or None."""
    import botocore.session

    try:
        return botocore.session.get_session().get_service_model(service)
    except Exception:  # An unknown signing name: not a service we model.
        return None


def protocol_of(service: str | None) -> str:
    model = service_model(service) if service else None
    if model is None:
        return "json"
    return model.metadata.get("protocol", "json")


class _RestRouter:
    """Maps a REST request (method, raw path) to a botocore operation.

    Labels are matched on the raw, still percent-encoded path, because SDKs
    encode `/` inside labels such as a DynamoDB table ARN as %2F and the WSGI
    PATH_INFO has already decoded it.
    """

    def __init__(self, model: Any):
        routes = []
        for name in model.operation_names:
            op = model.operation_model(name)
            uri = op.http["requestUri"].split("?")[0]
            labels: list[str] = []
            pattern = ""
            # re.split with a group alternates literal text and label names.
            for i, piece in enumerate(re.split(r"\{([^}]+)\}", uri)):
                if i % 2 == 0:
                    pattern += re.escape(piece)
                else:
                    labels.append(piece.rstrip("+"))
                    pattern += "(.+)" if piece.endswith("+") else "([^/]+)"
            pattern = "^" + pattern.rstrip("/") + "/?$"
            # More literal characters first: /backup-jobs/ before /backup-jobs/{id}.
            weight = len(re.sub(r"\{[^}]+\}", "", uri))
            routes.append((weight, op.http["method"], re.compile(pattern), labels, op))
        routes.sort(key=lambda r: -r[0])
        self.routes = routes

    def match(self, method: str, raw_path: str) -> tuple[Any, dict[str, str]] | None:
        for _, route_method, pattern, labels, op in self.routes:
            if route_method != method:
                continue
            found = pattern.match(raw_path)
            if found:
                return op, {name: unquote(value) for name, value in zip(labels, found.groups())}
        return None


@functools.lru_cache(maxsize=None)
def rest_router(service: str) -> _RestRouter | None:
    model = service_model(service)
    if model is None or model.metadata.get("protocol") not in ("rest-json", "rest-xml"):
        return None
    return _RestRouter(model)


@dataclass
class AwsRequest:
    method: str
    raw_path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    service: str | None = None
    region: str | None = None
    access_key: str | None = None
    account: str = ""
    operation: str = ""
    protocol: str = "json"
    # For REST operations: the botocore operation model and decoded URI labels.
    op_model: Any = None
    uri_params: dict[str, str] = field(default_factory=dict)
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _json: Any = None

    @classmethod
    def from_environ(cls, environ: dict[str, Any], body: bytes) -> "AwsRequest":
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        raw_path = raw_uri.split("?")[0]
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        req = cls(
            method=environ.get("REQUEST_METHOD", "GET").upper(),
            raw_path=raw_path,
            query=parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True),
            headers=headers,
            body=body,
        )
        req._identify()
        return req

    def _identify(self) -> None:
        found = _CREDENTIAL.search(self.headers.get("authorization", ""))
        if found:
            self.access_key, self.region, self.service = found.group(1), found.group(2), found.group(3).lower()
        self.protocol = protocol_of(self.service)
        target = self.headers.get("x-amz-target")
        if target and "." in target:
            self.operation = target.split(".", 1)[1]
        elif self.protocol in ("query", "ec2") or self.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"):
            # Query-protocol calls also come from services whose credential scope is not their
            # model's name (CloudWatch signs as `monitoring`).
            form = parse_qs(self.body.decode("utf-8", "replace")) if self.body else {}
            self.operation = (form.get("Action") or self.query.get("Action") or [""])[0]
        elif self.service:
            router = rest_router(self.service)
            matched = router.match(self.method, self.raw_path) if router else None
            if matched:
                self.op_model, self.uri_params = matched
                self.operation = self.op_model.name
        if not self.operation:
            self.operation = f"{self.method} {unquote(self.raw_path)}"
        self.account = self._account()

    def _account(self) -> str:
        # The same precedence as moto's own BaseResponse.get_current_account.
        if self.headers.get("x-moto-account-id"):
            return self.headers["x-moto-account-id"]
        from moto.iam.models import get_account_id_from

        return get_account_id_from(self.access_key or "AKIAEXAMPLE")

    @property
    def is_aws(self) -> bool:
        return self.service is not None

    def json(self) -> dict[str, Any]:
        if self._json is None:
            try:
                parsed = json.loads(self.body or b"{}")
            except ValueError:
                raise AwsError("SerializationException", "the request body is not valid JSON")
            self._json = parsed if isinstance(parsed, dict) else {}
        return self._json

    def rest_params(self) -> dict[str, Any]:
        """The input of a REST operation by member name: URI labels, query and body."""
        params: dict[str, Any] = {}
        shape = self.op_model.input_shape if self.op_model else None
        body = self.json() if self.body else {}
        if shape is None:
            return body
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire_name = member.serialization.get("name", name)
            if location == "uri":
                if wire_name in self.uri_params:
                    params[name] = self.uri_params[wire_name]
            elif location == "querystring":
                if wire_name in self.query:
                    values = self.query[wire_name]
                    params[name] = _coerce(member.type_name, values if member.type_name == "list" else values[0])
            elif location == "header":
                if wire_name.lower() in self.headers:
                    params[name] = self.headers[wire_name.lower()]
            elif name in body:
                params[name] = body[name]
        return params


def _coerce(type_name: str, value: Any) -> Any:
    if type_name in ("integer", "long"):
        try:
            return int(value)
        except ValueError:
            raise AwsError("InvalidParameterValueException", f"{value!r} is not an integer")
    if type_name == "boolean":
        return str(value).lower() == "true"
    if type_name == "timestamp":
        return parse_timestamp(value)
    return value


def parse_timestamp(value: Any) -> float:
    """Epoch seconds from an ISO 8601 / RFC 3339 string or a number."""
    from datetime import datetime, timezone

    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise AwsError("InvalidParameterValueException", f"{text!r} is not a timestamp")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _content_type(req: AwsRequest) -> str:
    if req.protocol == "json":
        version = "1.0" if req.service == "dynamodb" else "1.1"
        return f"application/x-amz-json-{version}"
    if req.protocol == "rest-json":
        return "application/json"
    return "text/xml"


def _base_headers(req: AwsRequest, body: bytes) -> list[tuple[str, str]]:
    headers = [
        ("Content-Type", _content_type(req)),
        ("x-amzn-RequestId", req.request_id),
        ("Content-Length", str(len(body))),
    ]
    if req.service == "dynamodb":
        # DynamoDB answers carry a CRC32 of the body; some SDKs check it.
        headers.append(("x-amz-crc32", str(zlib.crc32(body) & 0xFFFFFFFF)))
    return headers


def json_response(req: AwsRequest, payload: Any, status: int = 200) -> Response:
    body = json.dumps(payload, default=_json_default).encode()
    return Response(status, _base_headers(req, body), body)


def _json_default(value: Any) -> Any:
    from datetime import datetime

    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def error_response(req: AwsRequest, err: AwsError) -> Response:
    """An error in the shape the request's protocol uses."""
    if req.protocol in ("query", "ec2", "rest-xml"):
        if req.protocol == "rest-xml":
            xml = f"<Error><Code>{escape(err.code)}</Code><Message>{escape(err.message)}</Message><RequestId>{req.request_id}</RequestId></Error>"
        else:
            kind = "Receiver" if err.status >= 500 else "Sender"
            xml = (
                f"<ErrorResponse><Error><Type>{kind}</Type><Code>{escape(err.code)}</Code>"
                f"<Message>{escape(err.message)}</Message></Error><RequestId>{req.request_id}</RequestId></ErrorResponse>"
            )
        body = xml.encode()
        return Response(err.status, _base_headers(req, body), body)
    type_name = DYNAMODB_ERROR_PREFIX + err.code if req.service == "dynamodb" else err.code
    payload: dict[str, Any] = {"__type": type_name, "message": err.message}
    if req.protocol == "rest-json":
        payload.update({"Code": err.code, "Message": err.message})
    body = json.dumps(payload).encode()
    headers = _base_headers(req, body) + [("x-amzn-ErrorType", err.code)]
    return Response(err.status, headers, body)


def plain_json(status: int, payload: Any) -> Response:
    """A control-endpoint answer (not an AWS protocol)."""
    body = json.dumps(payload, indent=1, default=_json_default).encode()
    return Response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body)
