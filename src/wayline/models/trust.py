"""Trust: what loading a model may do (SECURITY.md section 5).

Loading never runs code the model brings unless the caller trusts the model: ``trusted=True`` on a load
function, or ``WAYLINE_TRUSTED_MODELS=true`` in the environment (``--trusted`` on the CLI). Without trust,
pickle/cloudpickle/joblib files, models-from-code files and ``code`` directories are refused with
:class:`PermissionDenied`. skops files load when every type they need is on Wayline's allow-list or in
the caller's ``skops_trusted_types`` (a model's own list counts only when the model is trusted).

Every file a model names is resolved by :func:`model_file`: it must exist inside the model directory,
symlinks included.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wayline.errors import InvalidParameterValue, PermissionDenied, ResourceNotFound, invalid_value
from wayline.flags import is_true
from wayline.models.mlmodel import check_relative_path

TRUST_ENV = "WAYLINE_TRUSTED_MODELS"
OPT_IN = (
    "pass trusted=True or set WAYLINE_TRUSTED_MODELS=true (--trusted on the CLI) only for models you trust"
)
#: Libraries whose classes (and numpy's ufuncs) a skops file may name without asking: data containers and
#: estimators, never functions, since a function stored in a model (``FunctionTransformer(eval)``) runs.
SKOPS_ALLOWED_PACKAGES = ("sklearn", "numpy", "scipy", "xgboost", "lightgbm")
#: Plain data types of the standard library a skops file may name without asking.
SKOPS_ALLOWED_TYPES = frozenset(
    {
        "builtins.bytearray",
        "builtins.complex",
        "builtins.frozenset",
        "builtins.range",
        "builtins.slice",
        "collections.Counter",
        "collections.OrderedDict",
        "collections.defaultdict",
        "collections.deque",
    }
)


@dataclass(frozen=True)
class LoadOptions:
    """How far loading may go: ``trusted`` allows code execution; ``skops_trusted_types`` adds skops types."""

    trusted: bool = False
    skops_trusted_types: tuple[str, ...] = ()


def load_options(trusted: bool | None = None, skops_trusted_types: Sequence[str] = ()) -> LoadOptions:
    """The options of a load call; ``trusted=None`` reads ``WAYLINE_TRUSTED_MODELS``."""
    if trusted is None:
        trusted = is_true(os.environ.get(TRUST_ENV))
    elif not isinstance(trusted, bool):
        raise invalid_value("trusted", trusted, "must be True, False or None")
    if isinstance(skops_trusted_types, str) or not all(isinstance(t, str) for t in skops_trusted_types):
        raise invalid_value("skops_trusted_types", skops_trusted_types, "must be a list of type names")
    return LoadOptions(trusted=trusted, skops_trusted_types=tuple(skops_trusted_types))


def require_trust(options: LoadOptions, what: str) -> None:
    """PermissionDenied unless the model is trusted; ``what`` names the file or feature that runs code."""
    if not options.trusted:
        raise PermissionDenied(f"Loading {what} can run arbitrary code; refused: {OPT_IN}")


def model_file(model_dir: Path, relative: object, *, field: str) -> Path:
    """The existing file or directory ``relative`` names inside ``model_dir``.

    Absolute paths, ``..`` and symlinks that lead out of the directory are InvalidParameterValue naming
    ``field``; a missing file is ResourceNotFound.
    """
    name = check_relative_path(relative, field=field)
    root = Path(model_dir).resolve()
    candidate = root / name
    try:
        resolved = candidate.resolve(strict=False)
    except (OSError, RuntimeError):
        raise invalid_value(field, name, "cannot be resolved (symlink loop?)") from None
    if resolved != root and root not in resolved.parents:
        raise invalid_value(field, name, "leads out of the model directory (symlink)")
    if not resolved.exists():
        raise ResourceNotFound(f"The model file '{name}' ({field}) does not exist in '{model_dir}'")
    return resolved


def _allowed(type_name: str) -> bool:
    """A class (or numpy ufunc) of an allowed library, or one of the allowed standard types."""
    if type_name in SKOPS_ALLOWED_TYPES:
        return True
    parts = type_name.split(".")
    if parts[0] not in SKOPS_ALLOWED_PACKAGES or len(parts) < 2:
        return False
    found = _named_object(parts)
    if isinstance(found, type):
        return True
    import numpy

    return isinstance(found, numpy.ufunc)


def _named_object(parts: list[str]) -> object:
    """What ``a.b.C`` names inside an allowed package (None when nothing), importing only that package."""
    for split in range(len(parts) - 1, 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            found = getattr(found, attribute, None)
            if found is None:
                return None
        return found
    return None


def skops_trusted_types(file: Path, options: LoadOptions, declared: Sequence[str] | None = None) -> list[str]:
    """The types to pass to ``skops.io.load(file, trusted=...)``.

    Every untrusted type of the file must be on the allow-list, in ``options.skops_trusted_types`` or,
    for a trusted model only, in ``declared`` (the MLmodel's own ``skops_trusted_types``); otherwise
    PermissionDenied listing the refused types.
    """
    import skops.io

    if declared is not None and (isinstance(declared, str) or not all(isinstance(t, str) for t in declared)):
        raise invalid_value("skops_trusted_types", declared, "must be a list of type names")
    try:
        needed = list(skops.io.get_untrusted_types(file=file))
    except Exception as exc:
        raise InvalidParameterValue(f"The skops file '{file.name}' cannot be read: {exc}") from None
    extra = set(options.skops_trusted_types)
    if options.trusted and declared:
        extra.update(declared)
    refused = [t for t in needed if not (_allowed(t) or t in extra)]
    if refused:
        raise PermissionDenied(
            f"The skops file '{file.name}' needs types that are not trusted: {', '.join(sorted(refused))}; "
            "pass them in skops_trusted_types, or "
            + OPT_IN
            + " (a trusted model's own skops_trusted_types are then honoured)"
        )
    return needed


__all__ = [
    "OPT_IN",
    "SKOPS_ALLOWED_PACKAGES",
    "SKOPS_ALLOWED_TYPES",
    "TRUST_ENV",
    "LoadOptions",
    "load_options",
    "model_file",
    "require_trust",
    "skops_trusted_types",
]
