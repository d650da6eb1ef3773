"""The ``pytorch`` flavor: TorchScript programs and state dicts, in MLflow's layout.

Flavor keys ``model_data`` (the ``data`` directory), ``pytorch_version``, ``code``, plus Wayline's
``serialization_format`` (``torchscript`` or ``state_dict``) and ``model_code_path``; ``python_function``
with ``loader_module: mlflow.pytorch``, ``data``, ``pickle_module_name`` and ``model_config``.

* ``torchscript`` (default): ``data/model.pth`` written by ``torch.jit.save``, read by ``torch.jit.load``;
  data only, and MLflow loads it (its ``torch.load`` hands TorchScript archives to ``torch.jit.load``).
* ``state_dict``: ``data/state_dict.pth``, read with ``torch.load(weights_only=True)``; data only, but the
  module's class is code: pass ``model_class`` to :func:`load_model`, or save a model-from-code file
  (``model_code_path``, a Python file defining ``model``) that loading runs only for trusted models.
  MLflow cannot load state-dict models (it has no such format).
* MLflow's own formats are read too: a pickled whole module (``torch.save(model)``, ``data/model.pth``) and
  a ``torch.export`` program (``data/model.pt2``). Both unpickle, so Wayline loads them only when trusted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import runpy
import shutil
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from wayline.errors import InvalidParameterValue, invalid_value
from wayline.models.mlmodel import PYFUNC, MLModel
from wayline.models.trust import LoadOptions, load_options, model_file, require_trust

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from wayline.models.log import LogOptions, ModelInfo, SaveOptions

logger = logging.getLogger(__name__)

FLAVOR_NAME = "pytorch"
LOADER_MODULE = "mlflow.pytorch"
TORCHSCRIPT: Final = "torchscript"
STATE_DICT: Final = "state_dict"
SERIALIZATION_FORMATS = (TORCHSCRIPT, STATE_DICT)
DATA_DIR = "data"
MODEL_FILE = "model.pth"
EXPORTED_FILE = "model.pt2"
STATE_DICT_FILE = "state_dict.pth"
CODE_FILE = "model_code.py"
PICKLE_MODULE_INFO = "pickle_module_info.txt"
#: The pickle module MLflow would use for ``model.pth`` (a TorchScript archive never unpickles with it).
PICKLE_MODULE = "pickle"


@contextlib.contextmanager
def _torchscript() -> Iterator[None]:
    """TorchScript calls without torch's deprecation warning (recent torch versions deprecate
    ``torch.jit``; it is still the data-only module format MLflow reads)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.", category=DeprecationWarning)
        yield


def _is_torchscript(file: Path) -> bool:
    """Whether ``file`` is a TorchScript archive (``torch.jit.save``), not a pickle (``torch.save``)."""
    try:
        with zipfile.ZipFile(file) as archive:
            return any(name.endswith("/constants.pkl") for name in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def _as_numpy(value: Any) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, (list, tuple)):
        return [_as_numpy(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _as_numpy(v) for k, v in value.items()}
    raise InvalidParameterValue(f"The pytorch model returned {type(value).__name__}; expected tensors")


class PyTorchPredictor:
    """The loaded module behind a PyFuncModel: DataFrame / ndarray / dict of arrays -> tensors -> numpy.

    A DataFrame is scored as one float32 tensor and gives a DataFrame with the input's index; an array as
    one tensor (float64 cast to the module's float dtype); a dict as keyword tensors. ``params`` are passed
    to ``forward`` as keyword arguments, as MLflow does.
    """

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def _float_dtype(self) -> Any:
        for tensor in self.raw.parameters():
            if tensor.is_floating_point():
                return tensor.dtype
        return None

    def _tensor(self, array: Any) -> Any:
        import numpy as np
        import torch

        array = np.ascontiguousarray(array)
        if not array.flags.writeable:
            array = array.copy()
        tensor = torch.from_numpy(array)
        dtype = self._float_dtype()
        if dtype is not None and tensor.is_floating_point() and tensor.dtype != dtype:
            tensor = tensor.to(dtype)
        return tensor

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np
        import pandas as pd
        import torch

        kwargs = dict(params or {})
        with torch.no_grad():
            if isinstance(data, pd.DataFrame):
                output = self.raw(self._tensor(data.to_numpy(dtype=np.float32)), **kwargs)
                result = _as_numpy(output)
                if not isinstance(result, np.ndarray):
                    return result
                return pd.DataFrame(result.reshape(len(data), -1), index=data.index)
            if isinstance(data, np.ndarray):
                return _as_numpy(self.raw(self._tensor(data), **kwargs))
            if isinstance(data, Mapping):
                tensors = {str(k): self._tensor(np.asarray(v)) for k, v in data.items()}
                return _as_numpy(self.raw(**tensors, **kwargs))
        raise InvalidParameterValue(
            "The pytorch model scores a pandas DataFrame, a numpy array or a dict of arrays, "
            f"not {type(data).__name__}"
        )


def _script(pytorch_model: Any) -> Any:
    import torch

    if isinstance(pytorch_model, torch.jit.ScriptModule):
        return pytorch_model
    try:
        with _torchscript():
            return torch.jit.script(pytorch_model)
    except Exception as exc:
        raise InvalidParameterValue(
            "Invalid value for parameter 'pytorch_model': TorchScript cannot compile it "
            f"({type(exc).__name__}: {exc}); pass a traced module (torch.jit.trace) or save with "
            "serialization_format='state_dict'"
        ) from exc


def save_model(
    pytorch_model: Any,
    path: str | os.PathLike[str],
    *,
    serialization_format: Literal["torchscript", "state_dict"] = TORCHSCRIPT,
    model_code_path: str | os.PathLike[str] | None = None,
    **options: Unpack[SaveOptions],
) -> MLModel:
    """Save a ``torch.nn.Module`` to the directory ``path``; returns the MLmodel.

    ``serialization_format='torchscript'`` compiles the module with ``torch.jit.script`` (a
    ``ScriptModule``, scripted or traced, is stored as is). ``'state_dict'`` stores the weights only;
    ``model_code_path`` names a Python file defining ``model`` (the module, or a function returning it),
    copied into the model so ``wayline.pyfunc.load_model`` can rebuild it (trusted models only). Without
    it, a state-dict model has no ``python_function`` flavor.
    """
    import torch

    from wayline.models.package import PyfuncEntry, save_model_dir

    if serialization_format not in SERIALIZATION_FORMATS:
        raise invalid_value(
            "serialization_format", serialization_format, f"must be one of {', '.join(SERIALIZATION_FORMATS)}"
        )
    if not isinstance(pytorch_model, torch.nn.Module):
        raise invalid_value("pytorch_model", type(pytorch_model).__name__, "must be a torch.nn.Module")
    code_file: Path | None = None
    if model_code_path is not None:
        if serialization_format != STATE_DICT:
            raise invalid_value("model_code_path", str(model_code_path), "is only used with state_dict")
        code_file = Path(model_code_path)
        if not code_file.is_file() or code_file.suffix != ".py":
            raise invalid_value("model_code_path", str(model_code_path), "must be an existing .py file")
    saved = _script(pytorch_model) if serialization_format == TORCHSCRIPT else pytorch_model
    state = None if serialization_format == TORCHSCRIPT else pytorch_model.state_dict()

    def write_data(target: Path) -> dict[str, Any]:
        data = target / DATA_DIR
        data.mkdir()
        config: dict[str, Any] = {
            "model_data": DATA_DIR,
            "pytorch_version": str(torch.__version__),
            "code": None,
            "serialization_format": serialization_format,
        }
        if state is None:
            with _torchscript():
                torch.jit.save(saved, str(data / MODEL_FILE))
            (data / PICKLE_MODULE_INFO).write_text(PICKLE_MODULE, encoding="utf-8")
        else:
            torch.save(state, data / STATE_DICT_FILE)
            if code_file is not None:
                shutil.copyfile(code_file, data / CODE_FILE)
                config["model_code_path"] = f"{DATA_DIR}/{CODE_FILE}"
        return config

    pyfunc = None
    if serialization_format == TORCHSCRIPT or code_file is not None:
        pyfunc = PyfuncEntry(
            loader_module=LOADER_MODULE,
            config={"data": DATA_DIR, "pickle_module_name": PICKLE_MODULE, "model_config": {"device": None}},
        )
    else:
        logger.info("A state-dict model without model_code_path gets no python_function flavor")
    return save_model_dir(
        path,
        flavor=FLAVOR_NAME,
        write_data=write_data,
        pyfunc=pyfunc,
        packages=["torch"],
        predict=PyTorchPredictor(pytorch_model).predict,
        **options,
    )


def log_model(
    pytorch_model: Any,
    name: str = "model",
    *,
    serialization_format: Literal["torchscript", "state_dict"] = TORCHSCRIPT,
    model_code_path: str | os.PathLike[str] | None = None,
    **options: Unpack[LogOptions],
) -> ModelInfo:
    """Save the module like :func:`save_model` and log it to the active run (optionally registering it)."""
    from wayline.models.log import log_flavor_model

    def save(target: Path, saving: SaveOptions) -> MLModel:
        return save_model(
            pytorch_model,
            target,
            serialization_format=serialization_format,
            model_code_path=model_code_path,
            **saving,
        )

    return log_flavor_model(save, name, options)


ModelClass = Callable[[], Any]


def _module_from_code(model_dir: Path, flavor: Mapping[str, Any], options: LoadOptions) -> Any:
    import torch

    field = f"flavors.{FLAVOR_NAME}.model_code_path"
    name = flavor.get("model_code_path")
    if name is None:
        raise InvalidParameterValue(
            f"The pytorch model at '{model_dir}' is a state dict without model code: "
            "pass model_class to wayline.pytorch.load_model to rebuild the module"
        )
    require_trust(options, f"the model code file '{name}' ({field}) of the model at '{model_dir}'")
    file = model_file(model_dir, name, field=field)
    namespace = runpy.run_path(str(file), run_name="__wayline_model__")
    model = namespace.get("model")
    if callable(model) and not isinstance(model, torch.nn.Module):
        model = model()
    if not isinstance(model, torch.nn.Module):
        raise invalid_value(field, name, "must define 'model', a torch.nn.Module or a function returning one")
    return model


def _load_state_dict(
    model_dir: Path, data: str, flavor: Mapping[str, Any], options: LoadOptions, model_class: Any
) -> Any:
    import torch

    file = model_file(model_dir, f"{data}/{STATE_DICT_FILE}", field=f"flavors.{FLAVOR_NAME}.model_data")
    if model_class is None:
        module = _module_from_code(model_dir, flavor, options)
    elif isinstance(model_class, torch.nn.Module):
        module = model_class
    elif callable(model_class):
        module = model_class()
    else:
        raise invalid_value("model_class", model_class, "must be a torch.nn.Module class or instance")
    if not isinstance(module, torch.nn.Module):
        raise invalid_value("model_class", model_class, "did not build a torch.nn.Module")
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
        module.load_state_dict(state)
    except (RuntimeError, ValueError, KeyError) as exc:
        raise InvalidParameterValue(
            f"The state dict '{file.name}' does not load into the module: {exc}"
        ) from None
    return module.eval()


def _load(model_dir: Path, flavor: Mapping[str, Any], options: LoadOptions, model_class: Any = None) -> Any:
    """The module of a model directory, by its format (see the module docstring)."""
    import torch

    prefix = f"flavors.{FLAVOR_NAME}"
    rel = flavor.get("model_data", DATA_DIR)
    data = model_file(model_dir, rel, field=f"{prefix}.model_data")
    rel = str(rel).rstrip("/")
    if not data.is_dir():
        raise invalid_value(f"{prefix}.model_data", flavor.get("model_data"), "must name a directory")
    fmt = flavor.get("serialization_format")
    if fmt is not None and fmt not in SERIALIZATION_FORMATS:
        raise invalid_value(
            f"{prefix}.serialization_format", fmt, f"must be one of {', '.join(SERIALIZATION_FORMATS)}"
        )
    if fmt == STATE_DICT:
        return _load_state_dict(model_dir, rel, flavor, options, model_class)
    pth = data / MODEL_FILE
    if pth.is_file() or pth.is_symlink():
        file = model_file(model_dir, f"{rel}/{MODEL_FILE}", field=f"{prefix}.model_data")
        if _is_torchscript(file):
            with _torchscript():
                return torch.jit.load(str(file), map_location="cpu").eval()  # type: ignore[no-untyped-call]
        if fmt == TORCHSCRIPT:
            raise invalid_value(f"{prefix}.model_data", f"{rel}/{MODEL_FILE}", "is not a TorchScript archive")
        require_trust(
            options, f"the pickled pytorch module '{rel}/{MODEL_FILE}' of the model at '{model_dir}'"
        )
        return torch.load(file, map_location="cpu", weights_only=False).eval()  # trusted: checked above
    if fmt is None and (data / EXPORTED_FILE).exists():
        require_trust(
            options, f"the torch.export program '{rel}/{EXPORTED_FILE}' of the model at '{model_dir}'"
        )
        file = model_file(model_dir, f"{rel}/{EXPORTED_FILE}", field=f"{prefix}.model_data")
        return torch.export.load(str(file)).module()
    raise InvalidParameterValue(f"The pytorch model at '{model_dir}' has no model file in '{rel}'")


def load_model(
    model_uri: str,
    *,
    trusted: bool | None = None,
    model_class: Any = None,
    dst_path: str | os.PathLike[str] | None = None,
    tracking_uri: str | None = None,
) -> Any:
    """The ``torch.nn.Module`` of the model ``model_uri`` names (on the CPU, in eval mode).

    TorchScript models load without trust. State-dict models are rebuilt with ``model_class`` (a module
    class, a function returning a module, or a module instance to fill) or, for a trusted model, its
    model-from-code file. MLflow's pickled modules and ``torch.export`` programs, and models with a
    ``code`` directory, need ``trusted=True`` or ``WAYLINE_TRUSTED_MODELS=true``.
    """
    from wayline.models.flavor import native_flavor

    options = load_options(trusted)
    model_dir, flavor = native_flavor(
        model_uri, FLAVOR_NAME, options, tracking_uri=tracking_uri, dst_path=dst_path
    )
    return _load(model_dir, flavor, options, model_class)


def load_pyfunc(model_dir: Path, metadata: MLModel, options: LoadOptions) -> PyTorchPredictor:
    """The module behind ``wayline.pyfunc.load_model``."""
    flavor = metadata.flavors.get(FLAVOR_NAME)
    if flavor is None:
        pyfunc = metadata.flavor(PYFUNC)
        flavor = {"model_data": pyfunc.get("data", DATA_DIR)}
    return PyTorchPredictor(_load(model_dir, flavor, options))


__all__ = [
    "FLAVOR_NAME",
    "LOADER_MODULE",
    "SERIALIZATION_FORMATS",
    "PyTorchPredictor",
    "load_model",
    "load_pyfunc",
    "log_model",
    "save_model",
]
