"""Request validation as SageMaker does it: lengths, patterns, enums and ranges of every member.

SageMaker checks each request against its API model before any handler runs and answers HTTP 400
``ValidationException`` with one message for all the problems it found::

    1 validation error detected: Value 'bad_name' at 'monitoringScheduleName' failed to satisfy
    constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}

(``N validation errors detected: A; B`` for several). The constraints come from the same API
model botocore ships (``min``/``max``/``pattern``/``enum`` traits of each shape), so every
operation and resource of the service is checked the same way, not only the names of the
data-quality flow. Member paths are written as the service writes them: lowerCamelCase member
names joined by dots, list items as ``<list>.<1-based index>.member``.

API:

- :func:`validate_name` ``(kind, value)``: one resource name (``"endpoint"``,
  ``"monitoring-schedule"``, ...; see :data:`NAME_MEMBERS`).
- :func:`request_errors` ``(operation, params)``: the messages for one request.
- :func:`check_request` ``(operation, params)``: raises :class:`ValidationFailed` (the
  service's message) when there is any.
- :func:`install`: runs :func:`check_request` in front of every SageMaker action of moto.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any

#: resource kind -> (operation, member) whose shape defines that kind's names
NAME_MEMBERS: dict[str, tuple[str, str]] = {
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
_CALL_ACTION = "moto.sagemaker.responses.SageMakerResponse.call_action"


class ValidationFailed(ValueError):
    """A request broke the API model's constraints; ``str()`` is the service's message."""

    code = "ValidationException"


@functools.lru_cache(maxsize=1)
def _service_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("sagemaker")


@functools.lru_cache(maxsize=512)
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


def _scalar_constraints(shape: Any, value: Any) -> list[str]:
    """The constraint messages a scalar or a collection's size breaks (service wording)."""
    meta = shape.metadata
    problems = []
    if shape.type_name == "string" and isinstance(value, str):
        enum = getattr(shape, "enum", None) or meta.get("enum")
        if enum and value not in enum:
            problems.append(f"Member must satisfy enum value set: [{', '.join(enum)}]")
        pattern = meta.get("pattern")
        compiled = _compiled(pattern) if pattern else None
        if compiled is not None and not compiled.fullmatch(value):
            problems.append(f"Member must satisfy regular expression pattern: {pattern}")
        size = len(value)
    elif shape.type_name in ("list", "map") and isinstance(value, list | dict):
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
    return problems


def _walk(shape: Any, value: Any, path: str, out: list[str]) -> None:
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
                _walk(member, value[name], f"{path + '.' if path else ''}{_camel(name)}", out)
    elif shape.type_name == "list" and isinstance(value, list):
        for index, item in enumerate(value, start=1):
            _walk(shape.member, item, f"{path}.{index}.member", out)
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


def request_errors(operation: str, params: Mapping[str, Any]) -> list[str]:
    """The validation messages of one request (empty: valid), in member order.

    Args:
        operation: the API operation (``"CreateMonitoringSchedule"``).
        params: the request's parameters, as sent (JSON).

    Raises:
        KeyError: the operation is not in the SageMaker API.
    """
    from botocore.model import OperationNotFoundError

    try:
        op = _service_model().operation_model(operation)
    except OperationNotFoundError as exc:
        raise KeyError(f"{operation} is not a SageMaker operation") from exc
    shape = op.input_shape
    out: list[str] = []
    if shape is not None and isinstance(params, Mapping):
        _walk(shape, dict(params), "", out)
    return out


def message(errors: list[str]) -> str:
    """The service's message for a list of problems (at most :data:`MAX_ERRORS` listed)."""
    shown = errors[:MAX_ERRORS]
    head = (
        "1 validation error detected: "
        if len(errors) == 1
        else f"{len(errors)} validation errors detected: "
    )
    return head + "; ".join(shown)


def check_request(operation: str, params: Mapping[str, Any]) -> None:
    """Raise :class:`ValidationFailed` with the service's message when a request is invalid."""
    errors = request_errors(operation, params)
    if errors:
        raise ValidationFailed(message(errors))


def validate_name(kind: str, value: Any) -> None:
    """Check one resource name as the service checks it in the request that creates it.

    Args:
        kind: a key of :data:`NAME_MEMBERS` (``"monitoring-schedule"``, ``"endpoint"``, ...).
        value: the name.

    Raises:
        ValidationFailed: the name breaks the length or the pattern (the service's message,
            e.g. ``1 validation error detected: Value '…' at 'endpointName' failed to satisfy
            constraint: Member must have length less than or equal to 63``).
        KeyError: an unknown kind.
    """
    if kind not in NAME_MEMBERS:
        raise KeyError(f"unknown resource kind {kind!r}; known: {sorted(NAME_MEMBERS)}")
    operation, member = NAME_MEMBERS[kind]
    shape = _service_model().operation_model(operation).input_shape.members[member]
    errors: list[str] = []
    if value is None:
        errors.append(
            f"Value null at '{_camel(member)}' failed to satisfy constraint: Member must not be null"
        )
    else:
        _walk(shape, value, _camel(member), errors)
    if errors:
        raise ValidationFailed(message(errors))


def name_pattern(kind: str) -> str:
    """The service's pattern for names of one kind (``^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}``)."""
    operation, member = NAME_MEMBERS[kind]
    shape = _service_model().operation_model(operation).input_shape.members[member]
    return shape.metadata.get("pattern", "")


def _error_response(text: str) -> tuple[int, dict, str]:
    body = json.dumps({"__type": ValidationFailed.code, "message": text})
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "x-amzn-ErrorType": ValidationFailed.code,
    }
    return 400, headers, body


def _validating_call_action(original):
    def call_action(self):
        operation = self._get_action()
        try:
            params = json.loads(self.body or b"{}") if self.body else {}
        except ValueError:
            params = None
        if operation and isinstance(params, dict):
            try:
                check_request(operation, params)
            except ValidationFailed as exc:
                return _error_response(str(exc))
            except KeyError:
                pass  # not a SageMaker operation: moto answers as it does
        return original(self)

    call_action.__wrapped__ = original
    return call_action


def install() -> None:
    """Validate every SageMaker request against the API model before moto handles it."""
    from mmutils.emulator import patch_table

    patch_table.wrap(_CALL_ACTION, _validating_call_action)
