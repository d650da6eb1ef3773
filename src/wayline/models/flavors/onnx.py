"""The ``onnx`` flavor: ONNX models run with onnxruntime.

MLflow's layout: ``model.onnx`` (large tensors optionally in external data files next to it), flavor keys
``onnx_version``, ``data``, ``providers``, ``onnx_session_options``, ``code``; ``python_function`` with
``loader_module: mlflow.onnx`` and ``data``. ONNX is data only: loading needs no trust. External data
files a model names must stay inside the model directory.

``predict`` feeds the model's named inputs like MLflow: a dict of arrays as is, a single array to the only
input, a DataFrame's values to the only input or one column per input; float64 is cast to float32 where the
model expects float. It returns a dict of output name -> array, or a DataFrame (one column per output) for a
DataFrame input.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wayline.errors import InvalidParameterValue, invalid_value
from wayline.models.mlmodel import PYFUNC, MLModel
from wayline.models.trust import LoadOptions, load_options, model_file

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from wayline.models.log import LogOptions, ModelInfo, SaveOptions

logger = logging.getLogger(__name__)

FLAVOR_NAME = "onnx"
LOADER_MODULE = "mlflow.onnx"
MODEL_FILE = "model.onnx"
CPU = "CPUExecutionProvider"
DEFAULT_PROVIDERS = (CPU,)
#: ``onnx_session_options`` keys Wayline applies (``extra_session_config`` only for trusted models).
SESSION_OPTION_KEYS = (
    "inter_op_num_threads",
    "intra_op_num_threads",
    "execution_mode",
    "graph_optimization_level",
    "extra_session_config",
)


def _check_providers(value: object, field: str) -> list[Any]:
    if value is None:
        return list(DEFAULT_PROVIDERS)
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Sequence):
        raise invalid_value(field, value, "must be a list of execution provider names")
    out: list[Any] = []
    for entry in value:
        if isinstance(entry, str):
            out.append(entry)
        elif (
            isinstance(entry, Sequence)
            and len(entry) == 2
            and isinstance(entry[0], str)
            and isinstance(entry[1], Mapping)
        ):
            out.append((entry[0], dict(entry[1])))
        else:
            raise invalid_value(field, value, "entries must be provider names or (name, options) pairs")
    return out or list(DEFAULT_PROVIDERS)


def _check_session_options(value: object, field: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise invalid_value(field, value, "must be a mapping of session options")
    unknown = sorted(set(value) - set(SESSION_OPTION_KEYS))
    if unknown:
        raise invalid_value(field, unknown, f"known options are {', '.join(SESSION_OPTION_KEYS)}")
    for key in ("inter_op_num_threads", "intra_op_num_threads", "graph_optimization_level"):
        item = value.get(key)
        if item is not None and (isinstance(item, bool) or not isinstance(item, int) or item < 0):
            raise invalid_value(f"{field}.{key}", item, "must be a non-negative integer")
    mode = value.get("execution_mode")
    if mode is not None and (not isinstance(mode, str) or mode.upper() not in ("SEQUENTIAL", "PARALLEL")):
        raise invalid_value(f"{field}.execution_mode", mode, "must be 'sequential' or 'parallel'")
    extra = value.get("extra_session_config")
    if extra is not None and (
        not isinstance(extra, Mapping)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in extra.items())
    ):
        raise invalid_value(f"{field}.extra_session_config", extra, "must map strings to strings")
    return dict(value)


def _session_options(options: Mapping[str, Any] | None, trusted: bool) -> Any:
    import onnxruntime

    session = onnxruntime.SessionOptions()
    if not options:
        return session
    if options.get("inter_op_num_threads"):
        session.inter_op_num_threads = options["inter_op_num_threads"]
    if options.get("intra_op_num_threads"):
        session.intra_op_num_threads = options["intra_op_num_threads"]
    mode = options.get("execution_mode")
    if mode:
        parallel = mode.upper() == "PARALLEL"
        session.execution_mode = (
            onnxruntime.ExecutionMode.ORT_PARALLEL if parallel else onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        )
    level = options.get("graph_optimization_level")
    if level is not None:
        try:
            session.graph_optimization_level = onnxruntime.GraphOptimizationLevel(level)
        except ValueError:
            raise invalid_value(
                "onnx_session_options.graph_optimization_level", level, "is not a level"
            ) from None
    extra = options.get("extra_session_config")
    if extra:
        if not trusted:
            logger.warning("Ignoring the model's extra_session_config: it is applied only to trusted models")
        else:
            for key, value in extra.items():
                session.add_session_config_entry(key, value)
    return session


def _tensors(graph: Any) -> Iterator[Any]:
    """Every tensor of an ONNX graph (initializers and attribute tensors, subgraphs included)."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors
            if attribute.HasField("g"):
                yield from _tensors(attribute.g)
            for sub in attribute.graphs:
                yield from _tensors(sub)


def _check_external_data(model_dir: Path, file: Path, field: str) -> None:
    """Every external data file the model names must exist inside the model directory."""
    import onnx

    try:
        proto = onnx.load(str(file), load_external_data=False)
    except Exception as exc:  # onnx raises protobuf DecodeError and others for a bad file
        raise InvalidParameterValue(
            f"The ONNX model file '{file.name}' ({field}) cannot be read: {exc}"
        ) from None
    base = file.parent.relative_to(Path(model_dir).resolve())
    for tensor in _tensors(proto.graph):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        location = next((entry.value for entry in tensor.external_data if entry.key == "location"), None)
        model_file(
            model_dir, (base / location).as_posix() if location else location, field=f"{field} external data"
        )


def _load_proto(model_dir: Path, data: object, field: str) -> Any:
    import onnx

    file = model_file(model_dir, data, field=field)
    if not file.is_file():
        raise invalid_value(field, data, "must name a file")
    _check_external_data(model_dir, file, field)
    return onnx.load(str(file))


class OnnxPredictor:
    """An onnxruntime session behind a PyFuncModel (see the module docstring for inputs and outputs)."""

    def __init__(self, session: Any) -> None:
        self.raw = session
        self.inputs = [(i.name, i.type) for i in session.get_inputs()]
        self.output_names = [o.name for o in session.get_outputs()]

    def _feeds(self, data: Any) -> dict[str, Any]:
        import numpy as np
        import pandas as pd

        names = [name for name, _ in self.inputs]
        if isinstance(data, Mapping):
            feeds = {str(k): np.asarray(v) for k, v in data.items()}
        elif isinstance(data, np.ndarray):
            if len(names) != 1:
                raise InvalidParameterValue(
                    f"The ONNX model has {len(names)} inputs ({', '.join(names)}): pass a dict of arrays "
                    "or a DataFrame with one column per input, not a single array"
                )
            feeds = {names[0]: data}
        elif isinstance(data, pd.DataFrame):
            if len(names) == 1:
                feeds = {names[0]: data.to_numpy()}
            else:
                missing = [n for n in names if n not in data.columns]
                if missing:
                    raise InvalidParameterValue(f"The input has no column for the ONNX input(s) {missing}")
                feeds = {n: data[n].to_numpy() for n in names}
        else:
            raise InvalidParameterValue(
                "The ONNX model scores a pandas DataFrame, a numpy array or a dict of arrays, "
                f"not {type(data).__name__}"
            )
        for name, kind in self.inputs:
            feed = feeds.get(name)
            if feed is not None and kind == "tensor(float)" and feed.dtype == np.float64:
                feeds[name] = feed.astype(np.float32)
        return feeds

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np
        import pandas as pd

        if params:
            logger.warning("The ONNX model ignores the params %s", ", ".join(sorted(params)))
        try:
            outputs = self.raw.run(self.output_names, self._feeds(data))
        except (RuntimeError, ValueError, TypeError) as exc:  # onnxruntime's errors for bad feeds
            raise InvalidParameterValue(f"The ONNX model cannot score the input: {exc}") from None
        if isinstance(data, pd.DataFrame):
            return pd.DataFrame(
                {n: np.asarray(v).reshape(-1) for n, v in zip(self.output_names, outputs, strict=True)}
            )
        return dict(zip(self.output_names, outputs, strict=True))


def _session(
    file: Path, providers: list[Any], session_options: Mapping[str, Any] | None, trusted: bool
) -> Any:
    import onnxruntime

    available = set(onnxruntime.get_available_providers())
    usable = [p for p in providers if (p if isinstance(p, str) else p[0]) in available]
    if len(usable) < len(providers):
        logger.info("Execution providers %s are not available; using %s", providers, usable or [CPU])
    try:
        return onnxruntime.InferenceSession(
            str(file), sess_options=_session_options(session_options, trusted), providers=usable or [CPU]
        )
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/... for a bad model
        raise InvalidParameterValue(f"onnxruntime cannot load the model '{file.name}': {exc}") from None


def save_model(
    onnx_model: Any,
    path: str | os.PathLike[str],
    *,
    onnx_execution_providers: Sequence[Any] | None = None,
    onnx_session_options: Mapping[str, Any] | None = None,
    save_as_external_data: bool = True,
    **options: Unpack[SaveOptions],
) -> MLModel:
    """Save an ``onnx.ModelProto`` to the directory ``path`` (``model.onnx``); returns the MLmodel.

    ``onnx_execution_providers`` (default ``["CPUExecutionProvider"]``) and ``onnx_session_options``
    (threads, execution mode, graph optimization level) are recorded for loading. With
    ``save_as_external_data`` large tensors go to a file next to ``model.onnx`` (as MLflow does).
    """
    import onnx

    from wayline.models.package import PyfuncEntry, save_model_dir

    if not isinstance(onnx_model, onnx.ModelProto):
        raise invalid_value("onnx_model", type(onnx_model).__name__, "must be an onnx.ModelProto")
    providers = _check_providers(onnx_execution_providers, "onnx_execution_providers")
    session_options = _check_session_options(onnx_session_options, "onnx_session_options")
    try:
        onnx.checker.check_model(onnx_model)
    except onnx.checker.ValidationError as exc:
        raise invalid_value("onnx_model", "ModelProto", f"is not a valid ONNX model: {exc}") from None
    predictor: list[OnnxPredictor] = []

    def write_data(target: Path) -> dict[str, Any]:
        proto = onnx.ModelProto()
        proto.CopyFrom(onnx_model)  # external data conversion changes the proto
        onnx.save_model(proto, str(target / MODEL_FILE), save_as_external_data=save_as_external_data)
        predictor.append(OnnxPredictor(_session(target / MODEL_FILE, providers, session_options, True)))
        return {
            "onnx_version": onnx.__version__,
            "data": MODEL_FILE,
            "providers": [p if isinstance(p, str) else [p[0], p[1]] for p in providers],
            "onnx_session_options": session_options,
            "code": None,
        }

    def predict(data: Any) -> Any:
        return predictor[0].predict(data) if predictor else None

    return save_model_dir(
        path,
        flavor=FLAVOR_NAME,
        write_data=write_data,
        pyfunc=PyfuncEntry(loader_module=LOADER_MODULE, config={"data": MODEL_FILE}),
        packages=["onnx", "onnxruntime"],
        predict=predict,
        **options,
    )


def log_model(
    onnx_model: Any,
    name: str = "model",
    *,
    onnx_execution_providers: Sequence[Any] | None = None,
    onnx_session_options: Mapping[str, Any] | None = None,
    save_as_external_data: bool = True,
    **options: Unpack[LogOptions],
) -> ModelInfo:
    """Save the model like :func:`save_model` and log it to the active run (optionally registering it)."""
    from wayline.models.log import log_flavor_model

    def save(target: Path, saving: SaveOptions) -> MLModel:
        return save_model(
            onnx_model,
            target,
            onnx_execution_providers=onnx_execution_providers,
            onnx_session_options=onnx_session_options,
            save_as_external_data=save_as_external_data,
            **saving,
        )

    return log_flavor_model(save, name, options)


def load_model(
    model_uri: str,
    *,
    trusted: bool | None = None,
    dst_path: str | os.PathLike[str] | None = None,
    tracking_uri: str | None = None,
) -> Any:
    """The ``onnx.ModelProto`` of the model ``model_uri`` names (external data loaded). ONNX needs no
    trust; a model with a ``code`` directory does."""
    from wayline.models.flavor import native_flavor

    options = load_options(trusted)
    model_dir, flavor = native_flavor(
        model_uri, FLAVOR_NAME, options, tracking_uri=tracking_uri, dst_path=dst_path
    )
    return _load_proto(model_dir, flavor.get("data"), f"flavors.{FLAVOR_NAME}.data")


def load_pyfunc(model_dir: Path, metadata: MLModel, options: LoadOptions) -> OnnxPredictor:
    """An onnxruntime session on the model, with the providers and session options it records."""
    flavor = metadata.flavors.get(FLAVOR_NAME)
    prefix = f"flavors.{FLAVOR_NAME}"
    if flavor is None:
        flavor = {"data": metadata.flavor(PYFUNC).get("data")}
        prefix = f"flavors.{PYFUNC}"
    field = f"{prefix}.data"
    file = model_file(model_dir, flavor.get("data"), field=field)
    if not file.is_file():
        raise invalid_value(field, flavor.get("data"), "must name a file")
    _check_external_data(model_dir, file, field)
    providers = _check_providers(flavor.get("providers"), f"{prefix}.providers")
    session_options = _check_session_options(
        flavor.get("onnx_session_options"), f"{prefix}.onnx_session_options"
    )
    return OnnxPredictor(_session(file, providers, session_options, options.trusted))


__all__ = [
    "FLAVOR_NAME",
    "LOADER_MODULE",
    "OnnxPredictor",
    "load_model",
    "load_pyfunc",
    "log_model",
    "save_model",
]
