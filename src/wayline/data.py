"""Describing datasets for ``wayline.log_input``: a name, a source, a digest and a schema.

Nothing here reads the data's source; it is recorded as given. Sources are stored the way MLflow stores them,
as JSON (``{"uri": ...}``, ``{"url": ...}`` for HTTP, ``{"tags": {...}}`` for data made in code), so MLflow
clients and UIs understand them.

    ds = wayline.data.from_pandas(df, source="s3://bucket/train.parquet", name="train")
    wayline.log_input(ds, context="training")
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from wayline.client.context import SOURCE_NAME, source_name
from wayline.entities import Dataset
from wayline.errors import WaylineError, invalid_value

DIGEST_LENGTH = 8
#: Rows of a DataFrame hashed for its digest (the shape and columns are always hashed).
DIGEST_MAX_ROWS = 10_000
_SOURCE_TYPES = {
    "": "local",
    "file": "local",
    "s3": "s3",
    "s3a": "s3",
    "gs": "gcs",
    "http": "http",
    "https": "http",
    "hf": "hugging_face",
}
# numpy dtype kinds to MLflow column types.
_KIND_TYPES = {"b": "boolean", "f": "double", "i": "long", "u": "long", "M": "datetime", "S": "binary"}


def _digest(*parts: bytes) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    for part in parts:
        md5.update(len(part).to_bytes(8, "little"))
        md5.update(part)
    return md5.hexdigest()[:DIGEST_LENGTH]


def _json_text(value: object, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise invalid_value(field, value, f"must be a string or JSON-serializable: {exc}") from None


def source_type_of(source: str) -> str:
    """``local``, ``s3``, ``gcs``, ``http``, ``hugging_face``, or the URI's scheme."""
    scheme, sep, _ = source.partition("://")
    if not sep or len(scheme) == 1:  # a path, or a Windows drive letter
        return "local"
    scheme = scheme.lower()
    return _SOURCE_TYPES.get(scheme, scheme)


def _source_json(source: str, source_type: str) -> str:
    if source.lstrip().startswith("{"):
        return source  # already MLflow's JSON form
    key = "url" if source_type == "http" else "uri"
    return json.dumps({key: source})


def _code_source() -> tuple[str, str]:
    return json.dumps({"tags": {SOURCE_NAME: source_name()}}), "code"


def dataset(
    name: str,
    source: str | None,
    digest: str | None = None,
    schema: str | dict[str, Any] | None = None,
    *,
    source_type: str | None = None,
    profile: str | dict[str, Any] | None = None,
) -> Dataset:
    """A dataset description. ``source`` is a path or URI (None: made by the running code); ``source_type``
    is inferred from it; ``digest`` defaults to an md5-based 8-character hash of name, source and schema;
    ``schema`` and ``profile`` may be dicts (stored as JSON)."""
    if not isinstance(name, str) or not name.strip():
        raise invalid_value("name", name, "must be a non-empty string")
    if source is None:
        source_text, inferred = _code_source()
    elif isinstance(source, str) and source.strip():
        inferred = source_type_of(source)
        source_text = _source_json(source, inferred)
    else:
        raise invalid_value("source", source, "must be a non-empty path or URI, or None")
    if source_type is not None and (not isinstance(source_type, str) or not source_type.strip()):
        raise invalid_value("source_type", source_type, "must be a non-empty string")
    schema_text = _json_text(schema, "schema")
    profile_text = _json_text(profile, "profile")
    if digest is None:
        digest = _digest(name.encode(), source_text.encode(), (schema_text or "").encode())
    elif not isinstance(digest, str) or not digest.strip():
        raise invalid_value("digest", digest, "must be a non-empty string")
    return Dataset(
        name=name,
        digest=digest,
        source_type=source_type or inferred,
        source=source_text,
        schema=schema_text,
        profile=profile_text,
    )


def _column_type(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    if kind == "i" and getattr(dtype, "itemsize", 8) <= 4:
        return "integer"
    if kind == "f" and getattr(dtype, "itemsize", 8) <= 4:
        return "float"
    return _KIND_TYPES.get(kind, "string")


def _frame_digest(df: Any) -> str:
    import pandas as pd

    head = df.head(DIGEST_MAX_ROWS)
    try:
        rows = pd.util.hash_pandas_object(head, index=True).to_numpy().tobytes()
    except TypeError:  # unhashable cells (lists, dicts): hash their text instead
        rows = head.to_json(default_handler=str).encode()
    columns = json.dumps([str(c) for c in df.columns]).encode()
    return _digest(str(df.shape).encode(), columns, rows)


def from_pandas(
    df: Any,
    source: str | None = None,
    name: str | None = None,
    digest: str | None = None,
) -> Dataset:
    """A dataset describing a pandas DataFrame: a digest of its shape, columns and (first rows of) content,
    a schema of its columns in MLflow's form (``{"mlflow_colspec": [{"name", "type", "required"}]}``) and a
    profile with its row and element counts. ``name`` defaults to ``dataset``."""
    try:
        import pandas as pd
    except ImportError:
        raise WaylineError("from_pandas needs pandas, which is not installed: pip install pandas") from None
    if not isinstance(df, pd.DataFrame):
        raise invalid_value("df", df, "must be a pandas DataFrame")
    schema = {
        "mlflow_colspec": [
            {"type": _column_type(dtype), "name": str(column), "required": True}
            for column, dtype in df.dtypes.items()
        ]
    }
    profile = {"num_rows": len(df), "num_elements": int(df.size)}
    return dataset(
        "dataset" if name is None else name,
        source,
        digest=_frame_digest(df) if digest is None else digest,
        schema=schema,
        profile=profile,
    )


__all__ = ["DIGEST_LENGTH", "dataset", "from_pandas", "source_type_of"]
