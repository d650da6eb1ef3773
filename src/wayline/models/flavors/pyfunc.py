"""The ``pyfunc`` flavor: custom Python models, as an object or as code.

Two ways to save one, both in MLflow's layout so ``mlflow.pyfunc.load_model`` reads them:

* a :class:`PythonModel` instance, stored with cloudpickle in ``python_model.pkl``; loading unpickles it,
  so it needs trust;
* models from code: ``python_model`` is the path of a ``.py`` file that builds the model and calls
  :func:`set_model`; the file is copied into the model directory and executed on load (trusted only).

``artifacts`` (name -> local path or URI) are copied under ``artifacts/`` and handed to
:meth:`PythonModel.load_context` as local paths in :attr:`PythonModelContext.artifacts`.
"""

from __future__ import annotations

import inspect
import logging
import os
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from wayline.errors import InvalidParameterValue, invalid_value
from wayline.models.flavors.pyfunc_artifacts import copy_artifacts, resolve_artifacts
from wayline.models.flavors.pyfunc_code import check_code_file, run_code_file, set_model
from wayline.models.mlmodel import PYFUNC, MLModel, code_file_name
from wayline.models.trust import LoadOptions, model_file, require_trust

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from wayline.models.log import LogOptions, ModelInfo, SaveOptions

logger = logging.getLogger(__name__)

#: MLflow's loader module names for the two layouts.
LOADER_MODULE = "mlflow.pyfunc.model"
CODE_LOADER_MODULE = "mlflow.pyfunc.loaders.code_model"
PICKLE_FILE = "python_model.pkl"
#: MLflow's keys in the python_function flavor.
KEY_PYTHON_MODEL = "python_model"
KEY_CODE_PATH = "model_code_path"
KEY_CONFIG = "config"
KEY_ARTIFACTS = "artifacts"
KEY_CLOUDPICKLE_VERSION = "cloudpickle_version"
KEY_COMPRESSION = "python_model_compression"
_COMPRESSIONS = ("lzma", "bzip2", "gzip")


class _TypeHints(NamedTuple):
    input: Any = None
    output: Any = None


class PythonModelContext:
    """What :meth:`PythonModel.load_context` receives: the model's artifacts and configuration."""

    def __init__(
        self, artifacts: Mapping[str, str] | None = None, model_config: Mapping[str, Any] | None = None
    ):
        self._artifacts = dict(artifacts or {})
        self._model_config = dict(model_config or {})

    @property
    def artifacts(self) -> dict[str, str]:
        """Artifact name -> absolute local path of its copy inside the model directory."""
        return self._artifacts

    @property
    def model_config(self) -> dict[str, Any]:
        """The ``model_config`` given to ``save_model``."""
        return self._model_config

    def __repr__(self) -> str:
        return f"PythonModelContext(artifacts={self._artifacts!r}, model_config={self._model_config!r})"


class PythonModel:
    """Base class of custom models: override :meth:`predict`, and :meth:`load_context` to read artifacts."""

    def load_context(self, context: PythonModelContext) -> None:
        """Called once when the model is loaded (and before inferring a signature at save time)."""

    def predict(
        self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None
    ) -> Any:
        """Score ``model_input`` (checked against the signature); ``params`` as the signature allows."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement predict(context, model_input, params)"
        )

    @property
    def predict_type_hints(self) -> _TypeHints:
        """No type-hint driven conversion (read by ``mlflow.pyfunc`` when MLflow loads a Wayline model)."""
        return _TypeHints()


def _calls_with_context(method: Callable[..., Any]) -> tuple[bool, bool]:
    """(takes a context, takes params) for a predict method, the way MLflow decides it."""
    try:
        parameters = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return True, True
    names = [p for p in parameters if p not in ("self", "params")]
    return ("context" in parameters or len(names) == 2), "params" in parameters


class PythonModelPredictor:
    """The loaded model behind :class:`~wayline.models.pyfunc_model.PyFuncModel`: calls the user's predict."""

    def __init__(self, python_model: Any, context: PythonModelContext) -> None:
        self.python_model = python_model
        self.context = context
        method = getattr(python_model, "predict", None)
        if callable(method):
            self._method: Callable[..., Any] = method
            self._context, self._params = _calls_with_context(method)
        elif callable(python_model):
            self._method, self._context, self._params = python_model, False, False
        else:
            raise invalid_value("python_model", python_model, "has no predict method")

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        kwargs: dict[str, Any] = {"params": params} if self._params else {}
        if params and not self._params:
            logger.warning("The model's predict takes no params; ignoring %s", sorted(params))
        if self._context:
            return self._method(self.context, data, **kwargs)
        return self._method(data, **kwargs)


def _check_python_model(python_model: object) -> Path | None:
    """The code file when ``python_model`` is a path; None for an object (checked)."""
    if isinstance(python_model, (str, os.PathLike)):
        return check_code_file(Path(python_model))
    if python_model is None:
        raise invalid_value("python_model", None, "is required: a PythonModel instance or a .py file path")
    if isinstance(python_model, type):
        raise invalid_value("python_model", python_model, "must be an instance of the class, not the class")
    if callable(python_model) or callable(getattr(python_model, "predict", None)):
        return None
    raise invalid_value("python_model", python_model, "must be a PythonModel instance or a .py file path")


def _check_config(model_config: object) -> dict[str, Any] | None:
    if model_config is None:
        return None
    if not isinstance(model_config, Mapping) or not all(isinstance(k, str) for k in model_config):
        raise invalid_value("model_config", model_config, "must be a mapping with string keys")
    return dict(model_config)


def save_model(
    path: str | os.PathLike[str],
    python_model: PythonModel | Callable[..., Any] | str | os.PathLike[str] | None = None,
    *,
    artifacts: Mapping[str, str | os.PathLike[str]] | None = None,
    model_config: Mapping[str, Any] | None = None,
    **options: Unpack[SaveOptions],
) -> MLModel:
    """Save a custom Python model (an object, or a models-from-code ``.py`` file) to the directory ``path``.

    The signature is ``signature``, or inferred from ``input_example`` by running the model on it
    (``False``: none). Returns the written MLmodel.
    """
    from wayline.models.environment import python_version
    from wayline.models.package import save_model_dir

    code_file = _check_python_model(python_model)
    config = _check_config(model_config)
    sources = resolve_artifacts(artifacts)
    state: dict[str, Any] = {}

    def write_data(target: Path) -> dict[str, Any]:
        import cloudpickle

        entry: dict[str, Any] = {
            "loader_module": LOADER_MODULE,
            "python_version": python_version(),
            "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
            KEY_CLOUDPICKLE_VERSION: cloudpickle.__version__,
            "streamable": False,
        }
        if code_file is not None:
            destination = target / code_file.name
            if destination.exists():
                raise invalid_value("python_model", str(code_file), "its name clashes with a model file")
            destination.write_bytes(code_file.read_bytes())
            entry[KEY_CODE_PATH] = code_file.name
            state["code_file"] = destination
        else:
            with open(target / PICKLE_FILE, "wb") as out:
                try:
                    cloudpickle.dump(python_model, out, protocol=pickle.DEFAULT_PROTOCOL)
                except Exception as exc:
                    raise InvalidParameterValue(
                        f"Invalid value for parameter 'python_model': it cannot be pickled ({exc}); "
                        "save it as a models-from-code file instead"
                    ) from exc
            entry[KEY_PYTHON_MODEL] = PICKLE_FILE
        if sources:
            saved = copy_artifacts(target, sources)
            entry[KEY_ARTIFACTS] = saved
            state["artifacts"] = {name: str(target / info["path"]) for name, info in saved.items()}
        if config is not None:
            entry[KEY_CONFIG] = config
        return entry

    def predict(data: Any) -> Any:
        model = python_model
        if "code_file" in state:
            model = run_code_file(state["code_file"])
        predictor = PythonModelPredictor(model, PythonModelContext(state.get("artifacts"), config))
        load_context = getattr(model, "load_context", None)
        if callable(load_context):
            load_context(predictor.context)
        return predictor.predict(data)

    return save_model_dir(
        path,
        flavor=PYFUNC,
        write_data=write_data,
        pyfunc=None,
        packages=["cloudpickle"],
        predict=predict,
        **options,
    )


def log_model(
    python_model: PythonModel | Callable[..., Any] | str | os.PathLike[str] | None = None,
    name: str = "model",
    *,
    artifacts: Mapping[str, str | os.PathLike[str]] | None = None,
    model_config: Mapping[str, Any] | None = None,
    **options: Unpack[LogOptions],
) -> ModelInfo:
    """Save the model like :func:`save_model` and log it to the active run (optionally registering it)."""
    from wayline.models.log import log_flavor_model

    _check_python_model(python_model)

    def save(target: Path, saving: SaveOptions) -> MLModel:
        return save_model(
            target,
            python_model,
            artifacts=artifacts,
            model_config=model_config,
            **saving,
        )

    return log_flavor_model(save, name, options)


def _unpickle(model_dir: Path, config: Mapping[str, Any], options: LoadOptions) -> Any:
    field = f"flavors.{PYFUNC}.{KEY_PYTHON_MODEL}"
    name = config.get(KEY_PYTHON_MODEL)
    if name is None:
        raise invalid_value(field, None, "is required for a pickled Python model")
    require_trust(options, f"the cloudpickle file '{name}' ({field}) of the model at '{model_dir}'")
    file = model_file(model_dir, name, field=field)
    compression = config.get(KEY_COMPRESSION)
    import cloudpickle

    saved_version = config.get(KEY_CLOUDPICKLE_VERSION)
    if saved_version is not None and saved_version != cloudpickle.__version__:
        logger.warning(
            "The model was pickled with cloudpickle %s and is loaded with %s; it may not load",
            saved_version,
            cloudpickle.__version__,
        )
    if compression is None:
        with open(file, "rb") as f:
            return cloudpickle.load(f)
    if compression == "gzip":
        import gzip

        with gzip.open(file, "rb") as f:
            return cloudpickle.load(f)
    if compression == "bzip2":
        import bz2

        with bz2.open(file, "rb") as f:
            return cloudpickle.load(f)
    if compression == "lzma":
        import lzma

        with lzma.open(file, "rb") as f:
            return cloudpickle.load(f)
    raise invalid_value(f"flavors.{PYFUNC}.{KEY_COMPRESSION}", compression, f"must be one of {_COMPRESSIONS}")


def _from_code(model_dir: Path, config: Mapping[str, Any], options: LoadOptions) -> Any:
    field = f"flavors.{PYFUNC}.{KEY_CODE_PATH}"
    value = config.get(KEY_CODE_PATH)
    if not isinstance(value, str) or not value:
        raise invalid_value(field, value, "must be the name of the models-from-code file")
    name = code_file_name(value, field=field)
    require_trust(options, f"the models-from-code file '{name}' ({field}) of the model at '{model_dir}'")
    file = model_file(model_dir, name, field=field)
    if not file.is_file() or file.suffix != ".py":
        raise invalid_value(field, name, "must name a .py file")
    return run_code_file(file)


def _artifact_paths(model_dir: Path, config: Mapping[str, Any]) -> dict[str, str]:
    field = f"flavors.{PYFUNC}.{KEY_ARTIFACTS}"
    saved = config.get(KEY_ARTIFACTS) or {}
    if not isinstance(saved, Mapping):
        raise invalid_value(field, saved, "must be a mapping of artifact name to {path, uri}")
    paths: dict[str, str] = {}
    for name, info in saved.items():
        if not isinstance(name, str) or not isinstance(info, Mapping):
            raise invalid_value(f"{field}.{name}", info, "must be a mapping with a 'path'")
        paths[name] = str(model_file(model_dir, info.get("path"), field=f"{field}.{name}.path"))
    return paths


def load_pyfunc(model_dir: Path, metadata: MLModel, options: LoadOptions) -> PythonModelPredictor:
    """Load a custom Python model (pickled object or models from code); both need trust."""
    config = metadata.flavor(PYFUNC)
    model_config = config.get(KEY_CONFIG)
    if model_config is not None and not isinstance(model_config, Mapping):
        raise invalid_value(f"flavors.{PYFUNC}.{KEY_CONFIG}", model_config, "must be a mapping")
    artifacts = _artifact_paths(model_dir, config)
    if config.get(KEY_CODE_PATH) is not None:
        python_model = _from_code(model_dir, config, options)
    else:
        python_model = _unpickle(model_dir, config, options)
    context = PythonModelContext(artifacts, model_config)
    load_context = getattr(python_model, "load_context", None)
    if callable(load_context):
        load_context(context=context)
    return PythonModelPredictor(python_model, context)


__all__ = [
    "CODE_LOADER_MODULE",
    "LOADER_MODULE",
    "PythonModel",
    "PythonModelContext",
    "PythonModelPredictor",
    "load_pyfunc",
    "log_model",
    "save_model",
    "set_model",
]
