"""Model artefacts as SageMaker hosting reads them: where (``ModelDataUrl``) and what (format).

Where: ``ModelDataUrl`` may be an ``s3://bucket/key`` URI or an HTTPS URL of the object, as AWS's
own notebooks write it: virtual-hosted (``https://bucket.s3.region.amazonaws.com/key``,
``https://bucket.s3.amazonaws.com/key``, ``https://bucket.s3-region.amazonaws.com/key``) or
path-style (``https://s3.region.amazonaws.com/bucket/key``). :func:`locate` turns any of them
into ``(bucket, key)``.

What: the XGBoost containers load ``xgboost-model`` in the formats the installed xgboost reads
(JSON, UBJSON) and a pickled ``Booster`` (older containers' default). :func:`sniff` names the
format from the bytes; :func:`load_booster` loads it or raises :class:`ModelFormatError` whose
message names the format and why it cannot be loaded (e.g. the pre-1.0 binary format, which
xgboost 3 no longer reads).
"""

from __future__ import annotations

import io
import pickle
import re
from urllib.parse import unquote, urlsplit

from mmutils.formats import s3uri

_VIRTUAL = re.compile(
    r"^(?P<bucket>.+?)\.s3(?:[.-](?P<region>[a-z0-9-]+))?\.amazonaws\.com(?:\.cn)?$"
)
_PATH = re.compile(r"^s3(?:[.-](?P<region>[a-z0-9-]+))?\.amazonaws\.com(?:\.cn)?$")


def locate(url: str) -> tuple[str, str]:
    """``(bucket, key)`` of a model-data URL (``s3://`` or an S3 HTTPS URL).

    Raises:
        ValueError: not an S3 location (the message names the accepted forms).
    """
    if s3uri.is_s3(url):
        return s3uri.split(url)
    parts = urlsplit(url or "")
    host = (parts.hostname or "").lower()
    if parts.scheme in ("https", "http") and host:
        path = unquote(parts.path.lstrip("/"))
        match = _VIRTUAL.match(host)
        if match and not host.startswith("s3.") and not host.startswith("s3-"):
            if path:
                return match.group("bucket"), path
        elif _PATH.match(host):
            bucket, _, key = path.partition("/")
            if bucket and key:
                return bucket, key
    raise ValueError(
        f"not an S3 location: {url!r} (expected s3://bucket/key, "
        "https://bucket.s3.region.amazonaws.com/key or https://s3.region.amazonaws.com/bucket/key)"
    )


class ModelFormatError(ValueError):
    """The model file is in a format the emulated container cannot load (message names it)."""


def sniff(raw: bytes) -> str:
    """The format of an ``xgboost-model`` file: ``json``, ``ubjson``, ``pickle``,
    ``legacy-binary`` or ``unknown``."""
    head = bytes(raw[:16]).lstrip()
    if head.startswith(b"{L") or head.startswith(b"{#") or head.startswith(b"{$"):
        return "ubjson"
    if head.startswith(b"{"):
        return "json"
    if head[:1] == b"\x80" and len(head) > 1 and head[1] <= 5:
        return "pickle"
    if b"binf" in bytes(raw[:8]) or _looks_legacy(raw):
        return "legacy-binary"
    return "unknown"


def _looks_legacy(raw: bytes) -> bool:
    """The pre-1.0 binary layout: LearnerModelParam (136 bytes), then length-prefixed
    objective name (``reg:…``/``binary:…``/``multi:…``/``rank:…``/``count:…``/``survival:…``)."""
    text = bytes(raw[:512])
    return bool(re.search(rb"(reg|binary|multi|rank|count|survival):[a-z]", text)) and bool(
        re.search(rb"gb(tree|linear)|dart", text)
    )


class _BoosterOnly(pickle.Unpickler):
    """Unpickles an xgboost ``Booster`` (or a scikit-learn wrapper's) and nothing else."""

    ALLOWED = {
        ("xgboost.core", "Booster"),
        ("xgboost.sklearn", "XGBClassifier"),
        ("xgboost.sklearn", "XGBRegressor"),
        ("xgboost.sklearn", "XGBModel"),
        ("builtins", "bytearray"),
        ("collections", "OrderedDict"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise ModelFormatError(
                f"the pickle holds {module}.{name}; the XGBoost container unpickles only an "
                "xgboost Booster"
            )
        return super().find_class(module, name)


def load_booster(raw: bytes, source: str):
    """Load an ``xgboost-model`` file like the XGBoost container: JSON, UBJSON or a pickled Booster.

    Args:
        raw: the file's bytes.
        source: where it came from (for messages).

    Raises:
        ModelFormatError: the format cannot be loaded; the message names it.
    """
    import xgboost

    kind = sniff(raw)
    if kind in ("json", "ubjson"):
        booster = xgboost.Booster()
        try:
            booster.load_model(bytearray(raw))
        except xgboost.core.XGBoostError as exc:
            raise ModelFormatError(f"{source}: {kind} model does not load: {exc}") from exc
        return booster
    if kind == "pickle":
        try:
            obj = _BoosterOnly(io.BytesIO(bytes(raw))).load()
        except ModelFormatError:
            raise
        except Exception as exc:  # noqa: BLE001 - any unpickling failure is the format's
            raise ModelFormatError(
                f"{source}: pickled Booster could not be read by xgboost {xgboost.__version__} "
                f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); pickles of xgboost "
                "before 1.0 (the 0.90 container) hold the legacy binary format, which xgboost "
                "3 no longer reads: re-save the model with Booster.save_model('xgboost-model') "
                "in JSON or UBJSON"
            ) from exc
        booster = obj.get_booster() if hasattr(obj, "get_booster") else obj
        if not isinstance(booster, xgboost.Booster):
            raise ModelFormatError(
                f"{source}: the pickle holds {type(obj).__name__}, not a Booster"
            )
        return booster
    if kind == "legacy-binary":
        raise ModelFormatError(
            f"{source}: legacy binary XGBoost model (the format of xgboost before 1.0, e.g. the "
            f"0.90 container); xgboost {xgboost.__version__} reads only JSON and UBJSON: "
            "re-save it with Booster.save_model('xgboost-model') from xgboost 1.x"
        )
    raise ModelFormatError(
        f"{source}: unknown model format (first bytes {bytes(raw[:8])!r}); the XGBoost container "
        "loads JSON, UBJSON or a pickled Booster"
    )
