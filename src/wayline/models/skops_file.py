"""Models stored with skops (scikit-learn estimators, LightGBM's scikit-learn models): writing a file that
loads under Wayline's trust rules, and reading one.

A skops file lists the Python types it needs; :func:`wayline.models.trust.skops_trusted_types` decides which
may be rebuilt. The MLmodel records every type the file needs (``skops_trusted_types``), since MLflow loads
with exactly that list; Wayline honours a model's own list only when the model is trusted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from wayline.errors import InvalidParameterValue, PermissionDenied, invalid_value
from wayline.models.trust import LoadOptions, model_file, skops_trusted_types


def type_names(value: object, field: str) -> list[str] | None:
    """A list of type names (``skops_trusted_types``), or None; InvalidParameterValue naming ``field``."""
    if value is None:
        return None
    if (
        isinstance(value, str)
        or not isinstance(value, Sequence)
        or not all(isinstance(t, str) for t in value)
    ):
        raise invalid_value(field, value, "must be a list of type names")
    return list(value)


def write_skops(
    model: Any, file: Path, extra_types: list[str] | None, *, field: str, hint: str = ""
) -> list[str]:
    """Dump ``model`` to ``file`` and check it loads under Wayline's rules (with ``extra_types`` allowed);
    returns the sorted types to record in the MLmodel. ``field`` names the model argument in errors, and
    ``hint`` is added to the message when skops cannot store the model."""
    import skops.io

    try:
        skops.io.dump(model, file)
    except Exception as exc:
        raise InvalidParameterValue(
            f"Invalid value for parameter '{field}': "
            f"skops cannot store it ({type(exc).__name__}: {exc}){hint}"
        ) from exc
    try:
        needed = skops_trusted_types(file, LoadOptions(skops_trusted_types=tuple(extra_types or ())))
    except PermissionDenied as exc:
        raise invalid_value("skops_trusted_types", extra_types, str(exc)) from None
    return sorted(set(needed) | set(extra_types or ()))


def read_skops(
    model_dir: Path, name: object, *, field: str, flavor: Mapping[str, Any], prefix: str, options: LoadOptions
) -> Any:
    """Load the skops file ``name`` of ``model_dir``; the flavor's own ``skops_trusted_types`` count only
    for a trusted model, and any other type outside the allow-list is refused before anything is built."""
    import skops.io

    file = model_file(model_dir, name, field=field)
    declared = type_names(flavor.get("skops_trusted_types"), f"{prefix}.skops_trusted_types")
    return skops.io.load(file, trusted=skops_trusted_types(file, options, declared))


__all__ = ["read_skops", "type_names", "write_skops"]
