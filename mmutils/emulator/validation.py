"""Request validation at the API boundary: AWS's 400 JSON errors, never a 500 page.

- :func:`name_errors` / :func:`check_endpoint_name`: resource names AWS forbids, with the
  service's ``1 validation error detected: Value '…' at 'endpointName' failed to satisfy
  constraint: …`` text (the regular expression and the 63-character limit are those of the
  SageMaker API model; the message layout is the one every AWS JSON service uses).
- :func:`type_errors`: request members of the wrong JSON type (a number where the API model
  says string, a string where it says structure), checked against botocore's model of the
  operation. AWS's SDKs never send these; a raw HTTP client can. UNCONFIRMED: the exact text
  AWS answers for them; we answer ``ValidationException`` naming each member and the type.
- :func:`guard_dispatch`: wraps a moto response class's ``_dispatch`` so that an unknown
  action (``UnknownOperationException``), a body that is not a JSON object or has wrong-typed
  members (``ValidationException``) and an unexpected error in an action (``InternalFailure``,
  500, JSON) all answer in the AWS JSON error shape.

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
_NAME = re.compile(NAME_PATTERN + r"$")
#: operation -> the name members checked against NAME_PATTERN (member, AWS's spelling)
NAME_MEMBERS = {"CreateEndpoint": (("EndpointName", "endpointName"),)}
#: the Content-Type of AWS JSON 1.1 error answers
JSON_TYPE = "application/x-amz-json-1.1"


def name_errors(value: Any, member: str) -> list[str]:
    """The constraint violations of one resource name (empty: the name is valid).

    Args:
        value: the name as sent.
        member: the member in AWS's lower-camel spelling (``endpointName``).
    """
    if value is None:
        return [f"Value null at '{member}' failed to satisfy constraint: Member must not be null"]
    text = str(value)
    errors = []
    if len(text) > NAME_MAX_LENGTH:
        errors.append(
            f"Value '{text}' at '{member}' failed to satisfy constraint: Member must have "
            f"length less than or equal to {NAME_MAX_LENGTH}"
        )
    if not _NAME.match(text):
        errors.append(
            f"Value '{text}' at '{member}' failed to satisfy constraint: Member must satisfy "
            f"regular expression pattern: {NAME_PATTERN}"
        )
    return errors


def detected(errors: list[str]) -> str:
    """AWS's summary: ``N validation error(s) detected: a; b``."""
    plural = "s" if len(errors) != 1 else ""
    return f"{len(errors)} validation error{plural} detected: " + "; ".join(errors)


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
    for member, spelling in NAME_MEMBERS.get(operation, ()):
        errors = name_errors(body.get(member), spelling)
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
