"""The loader table: MLflow's ``loader_module`` names mapped to Wayline's own flavor modules.

An MLmodel's ``python_function.loader_module`` names a Python module (``mlflow.sklearn``). Wayline never
imports that name: it looks it up in :data:`LOADERS` and imports only its own flavor module, so an MLmodel
cannot make Wayline import or run code of its choosing. An unknown name is InvalidParameterValue.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from pathlib import Path
from typing import Any

from wayline.errors import InvalidParameterValue, NotImplementedFeature, invalid_value
from wayline.models.mlmodel import PYFUNC, MLModel
from wayline.models.pyfunc_model import PredictImpl, PyFuncModel
from wayline.models.trust import LoadOptions, model_file, require_trust

logger = logging.getLogger(__name__)

LOADERS: dict[str, str] = {
    "mlflow.sklearn": "wayline.models.flavors.sklearn",
    "mlflow.pyfunc.model": "wayline.models.flavors.pyfunc",
    "mlflow.pyfunc.loaders.code_model": "wayline.models.flavors.pyfunc",
    "mlflow.xgboost": "wayline.models.flavors.xgboost",
    "mlflow.lightgbm": "wayline.models.flavors.lightgbm",
    "mlflow.pytorch": "wayline.models.flavors.pytorch",
    "mlflow.onnx": "wayline.models.flavors.onnx",
}


def module_name(loader_module: object) -> str:
    """The name of Wayline's flavor module for an MLflow ``loader_module`` name."""
    field = f"flavors.{PYFUNC}.loader_module"
    if not isinstance(loader_module, str) or loader_module not in LOADERS:
        known = ", ".join(sorted(LOADERS))
        raise invalid_value(field, loader_module, f"Wayline loads models whose loader is one of: {known}")
    return LOADERS[loader_module]


def flavor_module(loader_module: object) -> Any:
    """Wayline's flavor module for an MLflow ``loader_module`` name."""
    name = module_name(loader_module)
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name != name:
            raise NotImplementedFeature(
                f"Loading '{loader_module}' models needs the package '{exc.name}', which is not installed"
            ) from None
        raise NotImplementedFeature(f"Wayline cannot load '{loader_module}' models yet") from None


def add_code_paths(model_dir: Path, config: dict[str, Any], options: LoadOptions, *, field: str) -> None:
    """Put the model's ``code`` directories on ``sys.path`` (trusted models only)."""
    code = config.get("code")
    if not code:
        return
    entries = code if isinstance(code, list) else [code]
    for i, entry in enumerate(entries):
        name = f"{field}.code" if not isinstance(code, list) else f"{field}.code[{i}]"
        require_trust(options, f"the code directory '{entry}' ({name}) of the model at '{model_dir}'")
        path = model_file(model_dir, entry, field=name)
        if str(path) not in sys.path:
            logger.info("Adding the model's code directory %s to sys.path", path)
            sys.path.insert(0, str(path))


def native_flavor(
    model_uri: str,
    name: str,
    options: LoadOptions,
    *,
    tracking_uri: str | None,
    dst_path: str | os.PathLike[str] | None,
) -> tuple[Path, dict[str, Any]]:
    """The local directory of the model ``model_uri`` names and its flavor ``name``'s configuration, with the
    model's ``code`` directories on ``sys.path`` (trusted models only): the start of every flavor's
    ``load_model``."""
    from wayline.models.location import local_model_dir

    model_dir = local_model_dir(model_uri, tracking_uri=tracking_uri, dst_path=dst_path)
    config = MLModel.load(model_dir).flavor(name)
    add_code_paths(model_dir, config, options, field=f"flavors.{name}")
    return model_dir, config


def load_pyfunc_dir(model_dir: Path, options: LoadOptions) -> PyFuncModel:
    """Load the model in a local directory through its ``python_function`` flavor."""
    model_dir = Path(model_dir)
    metadata = MLModel.load(model_dir)
    pyfunc = metadata.pyfunc
    if pyfunc is None:
        have = ", ".join(sorted(metadata.flavors))
        raise InvalidParameterValue(
            f"Invalid value for parameter 'flavors': the model at '{model_dir}' has no '{PYFUNC}' flavor "
            f"(it has: {have}); load it with its own flavor's load_model"
        )
    module_name(pyfunc.get("loader_module"))
    add_code_paths(model_dir, pyfunc, options, field=f"flavors.{PYFUNC}")
    module = flavor_module(pyfunc.get("loader_module"))
    impl: PredictImpl = module.load_pyfunc(model_dir, metadata, options)
    return PyFuncModel(impl, metadata, model_dir)


__all__ = ["LOADERS", "add_code_paths", "flavor_module", "load_pyfunc_dir", "module_name"]
