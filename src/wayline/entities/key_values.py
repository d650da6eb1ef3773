"""Key-value documents: a run's params or tags as the JSON text ``[{"key": k, "value": v}, ...]``, sorted by
key, which the SQL store keeps on each run row and the REST API sends as it is."""

from __future__ import annotations

from orjson import loads


def is_empty(document: str) -> bool:
    """Whether ``document`` holds no pair: a document of two characters, ``[]``, or ``{}``, the default of a
    run row's document columns."""
    return len(document) <= 2


def decoded(document: str) -> dict[str, str]:
    """The pairs of ``document`` as a dict, in the document's order."""
    if is_empty(document):
        return {}
    return {item["key"]: item["value"] for item in loads(document)}


__all__ = ["decoded", "is_empty"]
