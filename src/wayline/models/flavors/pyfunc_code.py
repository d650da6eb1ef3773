"""Models from code: a Python file that builds the model and hands it to :func:`set_model`.

Saving copies the file into the model directory (MLflow's layout: the file at the top of the directory, its
name under ``python_function.model_code_path``). Loading executes the file, so it needs trust.

A file written for MLflow calls ``mlflow.models.set_model``; Wayline never imports mlflow, but when such a
file imports mlflow itself (mlflow installed), the model it sets is picked up after the file ran. The other
way round, :func:`set_model` also fills MLflow's slot when mlflow is already imported, so
``mlflow.pyfunc.load_model`` loads a Wayline models-from-code model.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

from wayline.errors import InvalidParameterValue, WaylineError, invalid_value

logger = logging.getLogger(__name__)

#: Where MLflow keeps the model a code file sets (read and written only when mlflow is already imported).
_MLFLOW_MODULE = "mlflow.models.model"
_MLFLOW_SLOT = "__mlflow_model__"

_lock = threading.RLock()
_slot: list[Any] = []


def _check_model(model: object) -> None:
    if model is None or isinstance(model, (str, bytes)):
        raise invalid_value("model", model, "must be a PythonModel instance or a callable, not a path")
    if not (callable(model) or callable(getattr(model, "predict", None))):
        raise invalid_value("model", model, "must be a PythonModel instance (with predict) or a callable")


def set_model(model: Any) -> None:
    """Declare the model of a models-from-code file: call it once at the end of the file.

    ``model`` is a :class:`~wayline.models.flavors.pyfunc.PythonModel` instance or a callable taking the
    model input.
    """
    _check_model(model)
    with _lock:
        _slot[:] = [model]
    mlflow_module = sys.modules.get(_MLFLOW_MODULE)
    if mlflow_module is not None:
        setattr(mlflow_module, _MLFLOW_SLOT, model)


def _mlflow_slot() -> Any:
    module = sys.modules.get(_MLFLOW_MODULE)
    return None if module is None else getattr(module, _MLFLOW_SLOT, None)


def check_code_file(path: Path, *, field: str = "python_model") -> Path:
    """The models-from-code file a caller names: an existing ``.py`` file."""
    if not path.is_file():
        raise invalid_value(field, str(path), "the models-from-code file does not exist")
    if path.suffix != ".py":
        raise invalid_value(field, str(path), "a models-from-code file must be a .py file")
    return path


def run_code_file(path: Path) -> Any:
    """Execute the models-from-code file ``path`` and return the model it set (the caller checked trust)."""
    name = f"wayline_code_model_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise invalid_value("model_code_path", path.name, "cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    with _lock:
        _slot.clear()
        mlflow_before = _mlflow_slot()
        sys.modules[name] = module
        logger.info("Running the models-from-code file %s", path)
        try:
            spec.loader.exec_module(module)
        except WaylineError:
            sys.modules.pop(name, None)
            raise
        except Exception as exc:
            sys.modules.pop(name, None)
            raise InvalidParameterValue(
                f"The models-from-code file '{path.name}' failed: {type(exc).__name__}: {exc}"
            ) from exc
        if _slot:
            model = _slot.pop()
        else:
            model = _mlflow_slot()
            if model is None or model is mlflow_before:
                sys.modules.pop(name, None)
                raise InvalidParameterValue(
                    f"The models-from-code file '{path.name}' did not set a model: end it with "
                    "wayline.pyfunc.set_model(model)"
                )
    _check_model(model)
    return model


__all__ = ["check_code_file", "run_code_file", "set_model"]
