"""Request validation at the API boundary, as SageMaker does it: AWS's 400 JSON errors, never a 500.

- **Constraints** (:func:`request_errors`, :func:`check_request`): every member of every
  SageMaker request is checked against the API model botocore ships (``min``/``max`` lengths
  and values, ``pattern``, ``enum``), with the service's text::

      1 validation error detected: Value 'bad_name' at 'monitoringScheduleName' failed to
      satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}

  (``N validation errors detected: A; B`` for several, at most :data:`MAX_ERRORS` listed).
  Member paths are lowerCamelCase joined by dots, list items ``<list>.<1-based>.member``. A
  pattern the model writes without anchors is shown with a leading ``^``, as the service's
  messages show the name pattern; for one member, a length problem is listed before a
  pattern problem.
- **Names** (:func:`validate_name` ``(kind, value)``, :func:`name_pattern`,
  :func:`name_errors` / :func:`check_endpoint_name`): one resource name, as the request that
  creates it checks it (:data:`NAME_KINDS`).
- :func:`type_errors`: request members of the wrong JSON type (a number where the API model
  says string, a string where it says structure). AWS's SDKs never send these; a raw HTTP
  client can. UNCONFIRMED: the exact text AWS answers for them; we answer
  ``ValidationException`` naming each member and the type.
- :func:`guard_dispatch`: wraps a moto response class's ``_dispatch`` so that an unknown
  action (``UnknownOperationException``), a body that is not a JSON object, wrong-typed
  members or broken constraints (``ValidationException``) and an unexpected error in an action
  (``InternalFailure``, 500, JSON) all answer in the AWS JSON error shape.

Only the JSON-protocol SageMaker APIs are guarded; other moto services keep moto's behaviour.
"""

from __future__ import annotations

import json
import re
import sys
import traceback
from collections.abc import Callable
from functools import lru_cache
from typing import Any

#: SageMaker's EndpointName (and most resource names): pattern and maximum length
NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
NAME_MAX_LENGTH = 63
#: resource kind -> (operation, member) whose shape defines that kind's names
NAME_KINDS: dict[str, tuple[str, str]] = {
    "model": ("CreateModel", "ModelName"),
    "endpoint-config": ("CreateEndpointConfig", "EndpointConfigName"),
    "endpoint": ("CreateEndpoint", "EndpointName"),
    "processing-job": ("CreateProcessingJob", "ProcessingJobName"),
    "transform-job": ("CreateTransformJob", "TransformJobName"),
    "monitoring-schedule": ("CreateMonitoringSchedule", "MonitoringScheduleName"),
    "data-quality-job-definition": ("CreateDataQualityJobDefinition", "JobDefinitionName"),
    "model-quality-job-definition": ("CreateModelQualityJobDefinition", "JobDefinitionName"),
    "monitoring-alert": ("UpdateMonitoringAlert", "MonitoringAlertName"),
}
#: the most problems the service lists in one message
MAX_ERRORS = 10
#: the Content-Type of AWS JSON 1.1 error answers
JSON_TYPE = "application/x-amz-json-1.1"


def name_errors(value: Any, member: str, kind: str = "endpoint") -> list[str]:
    """The constraint violations of one resource name (empty: the name is valid).

    Args:
        value: the name as sent.
        member: the member in AWS's lower-camel spelling (``endpointName``).
        kind: the resource kind whose name shape applies (a key of :data:`NAME_KINDS`).
    """
    if value is None:
        return [f"Value null at '{member}' failed to satisfy constraint: Member must not be null"]
    operation, name = NAME_KINDS[kind]
    shape = _service_model("sagemaker").operation_model(operation).input_shape.members[name]
    out: list[str] = []
    _check(shape, value if isinstance(value, str) else str(value), member, out)
    return out


def detected(errors: list[str]) -> str:
    """AWS's summary: ``N validation error(s) detected: a; b``."""
    plural = "s" if len(errors) != 1 else ""
    return f"{len(errors)} validation error{plural} detected: " + "; ".join(errors[:MAX_ERRORS])


def check_endpoint_name(value: Any) -> None:
    """Refuse an EndpointName AWS refuses.

    Raises:
        moto.sagemaker.exceptions.ValidationError: with the service's message.
    """
    from moto.sagemaker.exceptions import ValidationError

    errors = name_errors(value, "endpointName")
    if errors:
        raise ValidationError(message=detected(errors))


# ------------------------------------------------------------------------------ member types

_JSON_TYPES = {
    "string": (str,),
    "blob": (str,),
    "timestamp": (str, int, float),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "boolean": (bool,),
    "structure": (dict,),
    "map": (dict,),
    "list": (list,),
}
_TYPE_WORDS = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}


def _json_word(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return _TYPE_WORDS.get(type(value), type(value).__name__)


def _walk(shape, value: Any, path: str, out: list[str]) -> None:
    if value is None:
        return  # null members are treated as absent, as the service's parser does
    wanted = _JSON_TYPES.get(shape.type_name)
    if wanted is None:
        return
    ok = isinstance(value, wanted) and not (
        isinstance(value, bool) and shape.type_name not in ("boolean",)
    )
    if not ok:
        out.append(
            f"Value at '{path}' failed to satisfy constraint: Member must be of type "
            f"{shape.type_name}, not {_json_word(value)}"
        )
        return
    if shape.type_name == "structure":
        for key, member in shape.members.items():
            if key in value:
                _walk(member, value[key], f"{path}.{key}" if path else key, out)
    elif shape.type_name == "list":
        for i, item in enumerate(value):
            _walk(shape.member, item, f"{path}.{i + 1}", out)
    elif shape.type_name == "map":
        for key, item in value.items():
            _walk(shape.value, item, f"{path}.{key}", out)


@lru_cache(maxsize=8)
def _service_model(service: str):
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


def type_errors(service: str, operation: str, body: Any) -> list[str] | None:
    """Members of a JSON request body whose type the API model does not allow.

    Args:
        service: botocore's service name (``sagemaker``).
        operation: the operation (``CreateEndpoint``).
        body: the parsed JSON body.

    Returns:
        The violations (empty: none), or None when the operation is unknown to the model.
    """
    model = _service_model(service)
    if operation not in model.operation_names:
        return None
    shape = model.operation_model(operation).input_shape
    out: list[str] = []
    if shape is None:
        return out
    if not isinstance(body, dict):
        return [f"the request body must be a JSON object, not {_json_word(body)}"]
    _walk(shape, body, "", out)
    return out


# ------------------------------------------------------------------------------ constraints


class ValidationFailed(ValueError):
    """A request broke the API model's constraints; ``str()`` is the service's message."""

    code = "ValidationException"


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern | None:
    """The pattern in Python's syntax, or None when it uses Java-only syntax (not checked)."""
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        return None


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    if isinstance(value, dict | list):
        return f"'{json.dumps(value, separators=(',', ':'))}'"
    return f"'{value}'"


def _shown_pattern(pattern: str) -> str:
    """The pattern as the service's messages show it (anchored at the start)."""
    return pattern if pattern.startswith("^") else "^" + pattern


def _scalar_constraints(shape: Any, value: Any) -> list[str]:
    """The constraint messages a scalar or a collection's size breaks (service wording)."""
    meta = shape.metadata
    problems = []
    sized = (shape.type_name == "string" and isinstance(value, str)) or (
        shape.type_name in ("list", "map") and isinstance(value, list | dict)
    )
    if sized:
        size = len(value)
    elif shape.type_name in ("integer", "long", "float", "double") and isinstance(
        value, int | float
    ):
        if "max" in meta and value > meta["max"]:
            problems.append(f"Member must have value less than or equal to {meta['max']}")
        if "min" in meta and value < meta["min"]:
            problems.append(f"Member must have value greater than or equal to {meta['min']}")
        return problems
    else:
        return problems
    if "max" in meta and size > meta["max"]:
        problems.append(f"Member must have length less than or equal to {meta['max']}")
    if "min" in meta and size < meta["min"]:
        problems.append(f"Member must have length greater than or equal to {meta['min']}")
    if shape.type_name == "string":
        enum = getattr(shape, "enum", None) or meta.get("enum")
        if enum and value not in enum:
            problems.append(f"Member must satisfy enum value set: [{', '.join(enum)}]")
        pattern = meta.get("pattern")
        compiled = _compiled(pattern.lstrip("^").rstrip("$")) if pattern else None
        if compiled is not None and not compiled.fullmatch(value):
            problems.append(
                f"Member must satisfy regular expression pattern: {_shown_pattern(pattern)}"
            )
    return problems


def _check(shape: Any, value: Any, path: str, out: list[str]) -> None:
    for problem in _scalar_constraints(shape, value):
        out.append(f"Value {_show(value)} at '{path}' failed to satisfy constraint: {problem}")
    if shape.type_name == "structure" and isinstance(value, dict):
        for name in shape.required_members:
            if value.get(name) is None:
                out.append(
                    f"Value null at '{path + '.' if path else ''}{_camel(name)}' failed to "
                    "satisfy constraint: Member must not be null"
                )
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                _check(member, value[name], f"{path + '.' if path else ''}{_camel(name)}", out)
    elif shape.type_name == "list" and isinstance(value, list):
        for index, item in enumerate(value, start=1):
            _check(shape.member, item, f"{path}.{index}.member", out)
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            key_problems = _scalar_constraints(shape.key, key)
            value_problems = _scalar_constraints(shape.value, item)
            if key_problems:
                out.append(
                    f"Value {_show(value)} at '{path}' failed to satisfy constraint: "
                    f"Map keys must satisfy constraint: [{', '.join(key_problems)}]"
                )
            if value_problems:
                out.append(
                    f"Value {_show(value)} at '{path}' failed to satisfy constraint: "
                    f"Map value must satisfy constraint: [{', '.join(value_problems)}]"
                )


def request_errors(operation: str, params: Any) -> list[str]:
    """The constraint messages of one SageMaker request (empty: valid), in member order.

    Args:
        operation: the API operation (``"CreateMonitoringSchedule"``).
        params: the request's parameters, as sent (JSON).

    Raises:
        KeyError: the operation is not in the SageMaker API.
    """
    model = _service_model("sagemaker")
    if operation not in model.operation_names:
        raise KeyError(f"{operation} is not a SageMaker operation")
    shape = model.operation_model(operation).input_shape
    out: list[str] = []
    if shape is not None and isinstance(params, dict):
        _check(shape, params, "", out)
    return out


def check_request(operation: str, params: Any) -> None:
    """Raise :class:`ValidationFailed` with the service's message when a request is invalid."""
    errors = request_errors(operation, params)
    if errors:
        raise ValidationFailed(detected(errors))


def validate_name(kind: str, value: Any) -> None:
    """Check one resource name as the service checks it in the request that creates it.

    Args:
        kind: a key of :data:`NAME_KINDS` (``"monitoring-schedule"``, ``"endpoint"``, ...).
        value: the name.

    Raises:
        ValidationFailed: the name breaks the length or the pattern (the service's message).
        KeyError: an unknown kind.
    """
    if kind not in NAME_KINDS:
        raise KeyError(f"unknown resource kind {kind!r}; known: {sorted(NAME_KINDS)}")
    errors = name_errors(value, _camel(NAME_KINDS[kind][1]), kind)
    if errors:
        raise ValidationFailed(detected(errors))


def name_pattern(kind: str) -> str:
    """The service's pattern for names of one kind, as its messages show it."""
    operation, member = NAME_KINDS[kind]
    shape = _service_model("sagemaker").operation_model(operation).input_shape.members[member]
    pattern = shape.metadata.get("pattern", "")
    return _shown_pattern(pattern) if pattern else ""


# ------------------------------------------------------------------------------ the guard


def error_response(status: int, code: str, message: str) -> tuple[int, dict, str]:
    """An AWS JSON 1.1 error answer (moto's ``call_action`` tuple)."""
    headers = {"status": status, "Content-Type": JSON_TYPE, "x-amzn-ErrorType": code}
    return status, headers, json.dumps({"__type": code, "message": message})


def _json_body(request) -> tuple[bool, Any]:
    raw = request.get_data()
    if not raw:
        return True, {}
    try:
        return True, json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return False, None


def check_json_request(service: str, operation: str, request) -> tuple[int, dict, str] | None:
    """The error answer for a JSON request AWS would refuse, or None when it may proceed."""
    parsed, body = _json_body(request)
    if not parsed:
        return error_response(400, "SerializationException", "the request body is not valid JSON")
    problems = type_errors(service, operation, body)
    if problems is None:
        return error_response(
            400, "UnknownOperationException", f"Operation {operation} is not a {service} operation"
        )
    if problems:
        return error_response(400, "ValidationException", detected(problems))
    if service == "sagemaker":
        errors = request_errors(operation, body)
        if errors:
            return error_response(400, "ValidationException", detected(errors))
    return None


def guard_dispatch(service: str, *, json_body: bool) -> Callable[[Any], Any]:
    """A ``patch_table.wrap`` wrapper of a moto response class's ``_dispatch``.

    Args:
        service: botocore's service name of the class.
        json_body: the API sends JSON bodies named by ``X-Amz-Target`` (checked for shape,
            member types and names before moto parses them).
    """

    def wrapper(original):
        def _dispatch(self, request, full_url=None, headers=None):
            target = request.headers.get("X-Amz-Target") or ""
            operation = target.split(".")[-1] if target else ""
            if json_body and operation:
                refused = check_json_request(service, operation, request)
                if refused is not None:
                    return refused
            try:
                return original(self, request, full_url, headers)
            except NotImplementedError:
                return error_response(
                    400,
                    "ValidationException",
                    f"the mmlab emulator does not implement {operation or request.path}",
                )
            except Exception as exc:  # noqa: BLE001 - a bug answers JSON, never an HTML page
                traceback.print_exc(file=sys.stderr)
                return error_response(500, "InternalFailure", f"{type(exc).__name__}: {exc}")

        _dispatch.__wrapped__ = original
        return _dispatch

    return wrapper


_SM_RESPONSE = "moto.sagemaker.responses.SageMakerResponse"
_RUNTIME_RESPONSE = "moto.sagemakerruntime.responses.SageMakerRuntimeResponse"


def install() -> None:
    """Guard SageMaker's and SageMaker Runtime's actions; keep runtime bodies as bytes."""
    from mmutils.emulator import patch_table

    patch_table.wrap(f"{_SM_RESPONSE}._dispatch", guard_dispatch("sagemaker", json_body=True))
    patch_table.wrap(
        f"{_RUNTIME_RESPONSE}._dispatch", guard_dispatch("sagemaker-runtime", json_body=False)
    )
    # moto decodes request bodies as UTF-8 unless told not to: InvokeEndpoint bodies are bytes
    patch_table.wrap(f"{_RUNTIME_RESPONSE}.setup_class", _raw_body_setup)


def _raw_body_setup(original):
    """``setup_class`` that keeps the request body as bytes (``use_raw_body``)."""

    def setup_class(self, request, full_url=None, headers=None, use_raw_body=None):
        return original(self, request, full_url, headers, use_raw_body=True)

    setup_class.__wrapped__ = original
    return setup_class
