"""InvokeEndpoint runs the endpoint's model for real, then hands the exchange to data capture.

- SageMaker XGBoost images (image URI containing ``xgboost``): ``model.tar.gz`` is read from the
  emulated S3, its ``xgboost-model`` member (or its only file) is loaded with
  ``xgboost.Booster.load_model`` (cached per model-data URI) and ``text/csv`` requests are
  answered like the SageMaker XGBoost container (algorithm mode): cells parsed as floats (empty
  cell = missing), one prediction per row, each printed with Python ``str`` of the float32
  prediction widened to a double (``0.036397725343704224``), rows joined by ``\\n``, content type
  ``text/csv; charset=utf-8``. Accept ``application/json`` gives
  ``{"predictions": [{"score": p}, ...]}``.

  The container since 2022-04 encodes CSV with ``np.savetxt`` (one value per line plus a
  trailing newline); older images joined the values with ``,``. Both give the single-row answer
  seen in real capture files (``0.036397725343704224``, no newline), which is what the lab sends;
  we join several rows with ``\\n`` and add no trailing newline.
- Other images: the function named by ``MMLAB_INFERENCE_HANDLER=module:function`` (environment of
  the server process), called as ``handler(endpoint_name, body, content_type) -> (bytes,
  content_type)``. Without one the call fails with a ModelError saying so.
- Model failures (bad CSV, wrong feature count, unsupported content type) come back as the
  service's ``ModelError`` (HTTP 424, ``OriginalStatusCode``/``OriginalMessage``/``LogStreamArn``)
  and are not captured. Unknown endpoints give AWS's 400 ``Endpoint X of account Y not found.``
"""

from __future__ import annotations

import importlib
import io
import json
import os
import tarfile
import threading
from dataclasses import dataclass

from moto.sagemaker.models import sagemaker_backends
from moto.sagemakerruntime import responses as rtr

from mmutils.emulator import patch_table, s3io
from mmutils.emulator.capture_writer import WRITER
from mmutils.emulator.model_data import load_booster
from mmutils.emulator.model_data import locate as model_data_location
from mmutils.emulator.state import STATE

HANDLER_ENV = "MMLAB_INFERENCE_HANDLER"
SUPPORTED_ACCEPTS = ("application/json", "application/jsonlines", "text/csv")


class ModelInvocationError(Exception):
    """The model container answered with an error status (becomes a ModelError)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Deployed:
    """What an endpoint variant runs."""

    variant: str
    image: str
    model_data: str | None


class XGBoostModel:
    """A loaded booster; predictions are serialised by a lock (one predictor per model)."""

    def __init__(self, booster) -> None:
        self.booster = booster
        self.lock = threading.Lock()

    @classmethod
    def from_tarball(cls, data: bytes, source: str) -> XGBoostModel:
        """Load ``xgboost-model`` (or the archive's only file) from ``model.tar.gz`` bytes.

        Raises:
            ModelInvocationError: 500, the archive holds no loadable model.
        """
        import xgboost

        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
                files = [m for m in tar.getmembers() if m.isfile()]
                member = next((m for m in files if m.name.split("/")[-1] == "xgboost-model"), None)
                if member is None and len(files) == 1:
                    member = files[0]
                if member is None:
                    names = ", ".join(m.name for m in files) or "nothing"
                    raise ValueError(f"{source} holds no xgboost-model (it holds {names})")
                raw = tar.extractfile(member).read()
            booster = load_booster(raw, source)
            booster.set_param("nthread", 1)
        except (tarfile.TarError, ValueError, xgboost.core.XGBoostError) as exc:
            raise ModelInvocationError(500, f"Unable to load model: {exc}") from exc
        return cls(booster)

    def predict_csv(self, body: bytes) -> list[float]:
        """Probabilities of the CSV rows in ``body``.

        Raises:
            ModelInvocationError: 415 for CSV that does not parse to numbers, 400 when the model
                cannot evaluate it (e.g. too many features).
        """
        import numpy as np

        try:
            text = body.strip().decode("utf-8")
            # Python floats give the container's messages ("could not convert string to float")
            rows = [
                [float(c) if c else np.nan for c in line.split(",")] for line in text.split("\n")
            ]
            widths = {len(r) for r in rows}
            if len(widths) != 1:
                raise ValueError(f"rows have different numbers of columns: {sorted(widths)}")
            matrix = np.array(rows, dtype=float)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ModelInvocationError(
                415,
                "Loading csv data failed with Exception, please ensure data is in csv format:\n"
                f" {type(exc)}\n {exc}",
            ) from exc
        expected = self.booster.num_features()
        # the container's check: the data may have the model's features, or one fewer
        if matrix.shape[1] not in (expected, expected - 1):
            raise ModelInvocationError(
                400,
                "Unable to evaluate payload provided: Feature size of text/csv inference data "
                f"{matrix.shape[1]} is not consistent with feature size of trained model "
                f"{expected}.",
            )
        try:
            with self.lock:
                preds = self.booster.inplace_predict(matrix)
        except Exception as exc:  # noqa: BLE001 - any model failure is the model's 400
            raise ModelInvocationError(400, f"Unable to evaluate payload provided: {exc}") from exc
        return [
            float(p) for p in np.asarray(preds, dtype=np.float32).reshape(len(matrix), -1)[:, 0]
        ]


def encode_predictions(preds: list[float], accept: str | None) -> tuple[bytes, str]:
    """Serialise predictions for an Accept header like the XGBoost container.

    Raises:
        ModelInvocationError: 406 for an Accept type the container does not serve.
    """
    kind = (accept or "").split(";", 1)[0].strip().lower()
    if not kind or kind == "*/*":
        kind = "text/csv"
    if kind not in SUPPORTED_ACCEPTS:
        raise ModelInvocationError(
            406,
            f"Accept type {accept} is not supported. Please use supported accept types: "
            f"{list(SUPPORTED_ACCEPTS)}.",
        )
    if kind == "text/csv":
        return "\n".join(str(p) for p in preds).encode(), "text/csv; charset=utf-8"
    if kind == "application/jsonlines":
        lines = "\n".join(json.dumps({"score": p}) for p in preds)
        return lines.encode(), "application/jsonlines"
    return json.dumps({"predictions": [{"score": p} for p in preds]}).encode(), "application/json"


class ModelCache:
    """Loaded models by model-data URI (S3 objects do not change under a deployed model)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[tuple[str, str], XGBoostModel] = {}

    def get(self, account: str, model_data: str) -> XGBoostModel:
        """The model at ``model_data`` (loaded on first use)."""
        key = (account, model_data)
        with self._lock:
            if key in self._models:
                return self._models[key]
        try:
            bucket, obj = model_data_location(model_data)
            data = s3io.get_bytes(account, bucket, obj)
        except Exception as exc:  # noqa: BLE001 - missing bucket/key: the container cannot start
            raise ModelInvocationError(500, f"Unable to load model: {model_data}: {exc}") from exc
        model = XGBoostModel.from_tarball(data, model_data)
        with self._lock:
            return self._models.setdefault(key, model)

    def clear(self) -> None:
        """Forget every model."""
        with self._lock:
            self._models.clear()


MODELS = ModelCache()


def deployed_variant(backend, endpoint, target: str | None = None) -> Deployed:
    """The variant (``TargetVariant`` or the first one) of an endpoint and what it runs."""
    config = backend.endpoint_configs.get(endpoint.endpoint_config_name)
    variants = list(config.production_variants) if config is not None else []
    chosen = next((v for v in variants if v.get("VariantName") == target), None)
    if chosen is None and variants:
        chosen = variants[0]
    if chosen is None:
        raise ModelInvocationError(
            500, f"the endpoint config {endpoint.endpoint_config_name} no longer exists"
        )
    model = backend._models.get(chosen.get("ModelName"))
    if model is None:
        raise ModelInvocationError(500, f"the model {chosen.get('ModelName')} no longer exists")
    container = model.primary_container or (model.containers[0] if model.containers else {})
    return Deployed(
        variant=chosen["VariantName"],
        image=container.get("Image", ""),
        model_data=container.get("ModelDataUrl"),
    )


_handler_cache: dict[str, object] = {}


def custom_handler():
    """The ``MMLAB_INFERENCE_HANDLER`` function, or None."""
    spec = os.environ.get(HANDLER_ENV, "").strip()
    if not spec:
        return None
    if spec not in _handler_cache:
        module, _, func = spec.partition(":")
        if not module or not func:
            raise ModelInvocationError(500, f"{HANDLER_ENV}={spec!r} is not module:function")
        _handler_cache[spec] = getattr(importlib.import_module(module), func)
    return _handler_cache[spec]


def run_model(
    account: str,
    endpoint: str,
    deployed: Deployed,
    body: bytes,
    content_type: str,
    accept: str | None,
) -> tuple[bytes, str]:
    """Answer one request with the deployed model.

    Raises:
        ModelInvocationError: what the model container would answer with an error status.
    """
    if "xgboost" in deployed.image.lower():
        if not body:
            return b"", "text/csv; charset=utf-8"
        if (content_type or "").split(";", 1)[0].strip().lower() not in ("text/csv", "csv"):
            raise ModelInvocationError(415, f"Content-type {content_type} is not supported.")
        if not deployed.model_data:
            raise ModelInvocationError(500, "Unable to load model: the model has no ModelDataUrl")
        model = MODELS.get(account, deployed.model_data)
        return encode_predictions(model.predict_csv(body), accept)
    handler = custom_handler()
    if handler is None:
        raise ModelInvocationError(
            500,
            f"the mmlab emulator cannot run image {deployed.image}: only SageMaker XGBoost "
            f"images run built in; register a Python handler with {HANDLER_ENV}=module:function",
        )
    try:
        out, out_type = handler(endpoint, body, content_type)
    except ModelInvocationError:
        raise
    except Exception as exc:  # noqa: BLE001 - a failing handler is a failing model
        raise ModelInvocationError(400, f"{type(exc).__name__}: {exc}") from exc
    return (out.encode() if isinstance(out, str) else bytes(out)), out_type


def model_error(account: str, region: str, endpoint: str, err: ModelInvocationError):
    """The service's ModelError response (HTTP 424) for a model failure."""
    kind = "client" if err.status < 500 else "server"
    group = f"/aws/sagemaker/Endpoints/{endpoint}"
    message = (
        f'Received {kind} error ({err.status}) from primary with message "{err.message}". '
        f"See https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#logEventViewer:group={group} in account {account} for more information."
    )
    doc = {
        "ErrorCode": f"{kind.upper()}_ERROR_FROM_MODEL",
        "LogStreamArn": f"arn:aws:logs:{region}:{account}:log-group:{group}",
        "Message": message,
        "OriginalMessage": err.message,
        "OriginalStatusCode": err.status,
    }
    headers = {"status": 424, "x-amzn-ErrorType": "ModelError", "Content-Type": "application/json"}
    return 424, headers, json.dumps(doc)


def invoke_endpoint(self: rtr.SageMakerRuntimeResponse):
    """InvokeEndpoint: run the model, capture the exchange, answer like SageMaker."""
    account, region = self.current_account, self.region
    name = self.path.split("?", 1)[0].split("/")[2]
    backend = sagemaker_backends[account][region]
    endpoint = backend.endpoints.get(name)
    if endpoint is None:
        # moto's call_action reads the HTTP status from headers["status"]
        headers = {"status": 400, "x-amzn-ErrorType": "ValidationError"}
        return (
            400,
            headers,
            json.dumps({"message": f"Endpoint {name} of account {account} not found."}),
        )
    body = self.raw_body if isinstance(self.raw_body, bytes) else (self.raw_body or "").encode()
    content_type = self.headers.get("Content-Type") or "application/octet-stream"
    accept = self.headers.get("Accept")
    try:
        deployed = deployed_variant(
            backend, endpoint, self.headers.get("X-Amzn-SageMaker-Target-Variant")
        )
        out, out_type = run_model(account, name, deployed, body, content_type, accept)
    except ModelInvocationError as err:
        return model_error(account, region, name, err)
    WRITER.record(
        account=account,
        region=region,
        endpoint=name,
        variant=deployed.variant,
        config=endpoint.data_capture_config or {},
        request=body,
        request_type=content_type,
        response=out,
        response_type=out_type,
        inference_id=self.headers.get("X-Amzn-SageMaker-Inference-Id"),
        custom_attributes=self.headers.get("X-Amzn-SageMaker-Custom-Attributes"),
    )
    headers = {"Content-Type": out_type, "x-Amzn-Invoked-Production-Variant": deployed.variant}
    return 200, headers, out


def install() -> None:
    """Replace moto's canned InvokeEndpoint (idempotent)."""
    patch_table.replace(
        "moto.sagemakerruntime.responses.SageMakerRuntimeResponse.invoke_endpoint", invoke_endpoint
    )
    STATE.on_reset(MODELS.clear)
