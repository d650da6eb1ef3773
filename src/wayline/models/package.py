"""Writing a model directory: the one routine every flavor's ``save_model`` calls.

:func:`save_model_dir` creates the directory, lets the flavor write its files, then writes what every model
has: the ``MLmodel`` file (the flavor, the ``python_function`` entry, signature, example info, size,
metadata), ``requirements.txt`` / ``python_env.yaml`` / ``conda.yaml``, the input example files and a
``code/`` directory with the caller's ``code_paths``.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from wayline.errors import ResourceAlreadyExists, WaylineError, invalid_value
from wayline.models.environment import model_requirements, python_version, write_environment
from wayline.models.input_example import save_input_example, split_example
from wayline.models.mlmodel import MLMODEL_FILE, PYFUNC, MLModel

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from wayline.models.signature import ModelSignature

logger = logging.getLogger(__name__)

CODE_DIR = "code"


@dataclass(frozen=True)
class PyfuncEntry:
    """The ``python_function`` flavor of a model: MLflow's loader module name and where the model is."""

    loader_module: str
    model_path: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)


def _target(path: str | os.PathLike[str]) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise invalid_value("path", path, "must be a path")
    target = Path(path)
    if target.exists():
        if not target.is_dir():
            raise ResourceAlreadyExists(f"Path '{target}' already exists and is not a directory")
        if any(target.iterdir()):
            raise ResourceAlreadyExists(f"Path '{target}' already exists and is not empty")
    target.mkdir(parents=True, exist_ok=True)
    return target


def _copy_code(target: Path, code_paths: Sequence[str | os.PathLike[str]] | None) -> str | None:
    if code_paths is None:
        return None
    if isinstance(code_paths, (str, os.PathLike)):
        raise invalid_value("code_paths", code_paths, "must be a list of paths")
    code_dir = target / CODE_DIR
    code_dir.mkdir()
    for item in code_paths:
        source = Path(item)
        if not source.exists():
            raise invalid_value("code_paths", str(item), "does not exist")
        destination = code_dir / source.name
        if destination.exists():
            raise invalid_value("code_paths", str(item), f"a second entry is named '{source.name}'")
        if source.is_dir():
            shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, destination)
    return CODE_DIR


def _signature(
    signature: ModelSignature | Literal[False] | None,
    input_example: Any,
    predict: Callable[[Any], Any] | None,
) -> ModelSignature | None:
    if signature is False:
        return None
    if signature is not None:
        from wayline.models.signature import ModelSignature

        if not isinstance(signature, ModelSignature):
            raise invalid_value("signature", signature, "must be a ModelSignature, None or False")
        return signature
    if input_example is None:
        return None
    from wayline.models.signature import infer_signature

    data, params = split_example(input_example)
    output = None
    if predict is not None:
        try:
            output = predict(data)
        except Exception as exc:
            logger.warning("The model failed on its input example, so no output schema is recorded: %s", exc)
    try:
        return infer_signature(data, output, params)
    except WaylineError as exc:
        logger.warning("No signature could be inferred from the input example: %s", exc)
        return None


def _size(target: Path) -> int:
    return sum(p.stat().st_size for p in target.rglob("*") if p.is_file() and not p.is_symlink())


class SaveOptions(TypedDict, total=False):
    """What every flavor's ``save_model`` takes besides the model, the path and the flavor's own options."""

    signature: ModelSignature | Literal[False] | None
    input_example: Any
    code_paths: Sequence[str | os.PathLike[str]] | None
    pip_requirements: Sequence[str] | None
    extra_pip_requirements: Sequence[str] | None
    metadata: Mapping[str, Any] | None


SAVE_KEYS = frozenset(SaveOptions.__annotations__)


def save_model_dir(
    path: str | os.PathLike[str],
    *,
    flavor: str,
    write_data: Callable[[Path], dict[str, Any]],
    pyfunc: PyfuncEntry | None,
    packages: Sequence[str],
    predict: Callable[[Any], Any] | None = None,
    **options: Unpack[SaveOptions],
) -> MLModel:
    """Write a model directory at ``path`` (which must not exist or be empty) and return its MLmodel.

    ``write_data(dir)`` writes the flavor's own files and returns the flavor's configuration. The
    signature is ``signature``, or inferred from ``input_example`` (and ``predict(example)`` for the
    outputs) when None; ``False`` records none. Requirements are ``packages`` pinned to the installed
    versions (or ``pip_requirements``), plus ``extra_pip_requirements``. ``options`` are the flavor's
    ``save_model`` keywords (:class:`SaveOptions`); an unknown one is a ``TypeError``.
    """
    unknown = set(options) - SAVE_KEYS
    if unknown:
        raise TypeError(f"save_model() got unexpected keyword arguments: {', '.join(sorted(unknown))}")
    metadata = options.get("metadata")
    if metadata is not None and (
        not isinstance(metadata, Mapping) or not all(isinstance(k, str) for k in metadata)
    ):
        raise invalid_value("metadata", metadata, "must be a mapping with string keys")
    requirements = model_requirements(
        packages, options.get("pip_requirements"), options.get("extra_pip_requirements")
    )
    existed = Path(path).exists() if isinstance(path, (str, os.PathLike)) else False
    target = _target(path)
    try:
        return _write(
            target,
            flavor=flavor,
            write_data=write_data,
            pyfunc=pyfunc,
            requirements=requirements,
            signature=options.get("signature"),
            input_example=options.get("input_example"),
            predict=predict,
            metadata=metadata,
            code_paths=options.get("code_paths"),
        )
    except BaseException:
        if existed:
            for child in target.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        else:
            shutil.rmtree(target, ignore_errors=True)
        raise


def _write(
    target: Path,
    *,
    flavor: str,
    write_data: Callable[[Path], dict[str, Any]],
    pyfunc: PyfuncEntry | None,
    requirements: list[str],
    signature: ModelSignature | Literal[False] | None,
    input_example: Any,
    predict: Callable[[Any], Any] | None,
    metadata: Mapping[str, Any] | None,
    code_paths: Sequence[str | os.PathLike[str]] | None,
) -> MLModel:
    model = MLModel.new()
    code = _copy_code(target, code_paths)
    config = dict(write_data(target))
    if code is not None:
        config["code"] = code
    if input_example is not None:
        model.saved_input_example_info = save_input_example(target, input_example)
    model.signature = _signature(signature, input_example, predict)
    env = write_environment(target, requirements)
    if pyfunc is not None:
        entry: dict[str, Any] = {"loader_module": pyfunc.loader_module, "python_version": python_version()}
        if pyfunc.model_path is not None:
            entry["model_path"] = pyfunc.model_path
        if code is not None:
            entry["code"] = code
        entry["env"] = env
        entry.update(pyfunc.config)
        model.add_flavor(PYFUNC, **entry)
    model.add_flavor(flavor, **config)
    if metadata is not None:
        model.metadata = dict(metadata)
    model.model_size_bytes = _size(target)
    model.save(target)
    logger.info("Saved a %s model to %s", flavor, target / MLMODEL_FILE)
    return model


__all__ = ["CODE_DIR", "PyfuncEntry", "save_model_dir"]
