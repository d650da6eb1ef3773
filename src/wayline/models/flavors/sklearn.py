"""The ``sklearn`` flavor: scikit-learn estimators and pipelines, stored with skops by default.

MLflow's layout (``model.skops`` or ``model.pkl``; flavor keys ``pickled_model``, ``sklearn_version``,
``serialization_format``, ``code``, ``skops_trusted_types``), so MLflow and Wayline read each other's models.

* ``skops`` (default): a data-only format. Loading checks every type the file needs against Wayline's
  allow-list (sklearn, numpy, scipy, builtins, collections, xgboost, lightgbm) and the caller's
  ``skops_trusted_types``; the MLmodel's own list counts only for a trusted model.
* ``cloudpickle`` / ``pickle``: explicit opt-in when saving; loading runs arbitrary code, so it needs
  ``trusted=True`` (or ``WAYLINE_TRUSTED_MODELS=true``). The file is not even opened otherwise.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from wayline.errors import InvalidParameterValue, invalid_value
from wayline.models.mlmodel import PYFUNC, MLModel
from wayline.models.skops_file import read_skops, type_names, write_skops
from wayline.models.trust import LoadOptions, load_options, model_file, require_trust

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from wayline.models.log import LogOptions, ModelInfo, SaveOptions

logger = logging.getLogger(__name__)

FLAVOR_NAME = "sklearn"
LOADER_MODULE = "mlflow.sklearn"
SKOPS: Final = "skops"
CLOUDPICKLE: Final = "cloudpickle"
PICKLE: Final = "pickle"
SERIALIZATION_FORMATS = (SKOPS, CLOUDPICKLE, PICKLE)
SKOPS_FILE = "model.skops"
PICKLE_FILE = "model.pkl"
#: The estimator methods ``pyfunc_predict_fn`` may name (MLflow's set).
PREDICT_FNS = ("predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba", "score")


class SklearnPredictor:
    """The loaded estimator behind a PyFuncModel: ``predict`` calls the method chosen at save time."""

    def __init__(self, raw: Any, predict_fn: str = "predict") -> None:
        self.raw = raw
        self.predict_fn = predict_fn
        method = getattr(raw, predict_fn, None)
        if not callable(method):
            raise invalid_value(
                f"flavors.{PYFUNC}.predict_fn",
                predict_fn,
                f"the model ({type(raw).__name__}) has no such method",
            )
        self._method = method

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self._method(data)


#: Added to the error when skops cannot store an estimator.
_SKOPS_HINT = (
    "; custom functions and classes must be defined at module level, or save with "
    "serialization_format='cloudpickle' (loading it will then need trust)"
)


def _check_format(serialization_format: object, field: str = "serialization_format") -> str:
    if serialization_format not in SERIALIZATION_FORMATS:
        raise invalid_value(field, serialization_format, f"must be one of {', '.join(SERIALIZATION_FORMATS)}")
    return str(serialization_format)


def _check_predict_fn(name: object, field: str) -> str:
    if name not in PREDICT_FNS:
        raise invalid_value(field, name, f"must be one of {', '.join(PREDICT_FNS)}")
    return str(name)


def _write_pickle(sk_model: Any, file: Path, serialization_format: str) -> None:
    logger.warning(
        "Saving a scikit-learn model with %s: loading it runs arbitrary code and needs trust; "
        "the default 'skops' format is data only",
        serialization_format,
    )
    with open(file, "wb") as out:
        try:
            if serialization_format == CLOUDPICKLE:
                import cloudpickle

                cloudpickle.dump(sk_model, out, protocol=pickle.DEFAULT_PROTOCOL)
            else:
                pickle.dump(sk_model, out, protocol=pickle.DEFAULT_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise InvalidParameterValue(
                f"Invalid value for parameter 'sk_model': {serialization_format} cannot store it: {exc}"
            ) from exc


def save_model(
    sk_model: Any,
    path: str | os.PathLike[str],
    *,
    serialization_format: Literal["skops", "cloudpickle", "pickle"] = SKOPS,
    pyfunc_predict_fn: str = "predict",
    skops_trusted_types: Sequence[str] | None = None,
    **options: Unpack[SaveOptions],
) -> MLModel:
    """Save a scikit-learn estimator to the directory ``path``; returns the written MLmodel.

    The signature is ``signature``, or inferred from ``input_example`` and the model's output on it
    (``pyfunc_predict_fn``); ``False`` records none.
    """
    import sklearn

    from wayline.models.package import PyfuncEntry, save_model_dir

    fmt = _check_format(serialization_format)
    predict_fn = _check_predict_fn(pyfunc_predict_fn, "pyfunc_predict_fn")
    trusted_types = type_names(skops_trusted_types, "skops_trusted_types")
    if not callable(getattr(sk_model, "fit", None)):
        raise invalid_value("sk_model", sk_model, "must be a scikit-learn estimator")
    file_name = SKOPS_FILE if fmt == SKOPS else PICKLE_FILE

    def write_data(target: Path) -> dict[str, Any]:
        recorded = trusted_types
        if fmt == SKOPS:
            recorded = (
                write_skops(sk_model, target / file_name, trusted_types, field="sk_model", hint=_SKOPS_HINT)
                or None
            )
        else:
            _write_pickle(sk_model, target / file_name, fmt)
        return {
            "pickled_model": file_name,
            "sklearn_version": sklearn.__version__,
            "serialization_format": fmt,
            "code": None,
            "skops_trusted_types": recorded,
        }

    method = getattr(sk_model, predict_fn, None)
    pyfunc = None
    if callable(method):
        pyfunc = PyfuncEntry(
            loader_module=LOADER_MODULE, model_path=file_name, config={"predict_fn": predict_fn}
        )
    else:
        logger.warning("The model has no %s method: it gets no python_function flavor", predict_fn)
    packages = ["scikit-learn", "skops" if fmt == SKOPS else "cloudpickle" if fmt == CLOUDPICKLE else ""]
    return save_model_dir(
        path,
        flavor=FLAVOR_NAME,
        write_data=write_data,
        pyfunc=pyfunc,
        packages=[p for p in packages if p],
        predict=method if callable(method) else None,
        **options,
    )


def log_model(
    sk_model: Any,
    name: str = "model",
    *,
    serialization_format: Literal["skops", "cloudpickle", "pickle"] = SKOPS,
    pyfunc_predict_fn: str = "predict",
    skops_trusted_types: Sequence[str] | None = None,
    **options: Unpack[LogOptions],
) -> ModelInfo:
    """Save the estimator like :func:`save_model` and log it to the active run (optionally registering it)."""
    from wayline.models.log import log_flavor_model

    _check_format(serialization_format)
    _check_predict_fn(pyfunc_predict_fn, "pyfunc_predict_fn")

    def save(target: Path, saving: SaveOptions) -> MLModel:
        return save_model(
            sk_model,
            target,
            serialization_format=serialization_format,
            pyfunc_predict_fn=pyfunc_predict_fn,
            skops_trusted_types=skops_trusted_types,
            **saving,
        )

    return log_flavor_model(save, name, options)


def _load_file(
    model_dir: Path, name: object, field: str, flavor: Mapping[str, Any], options: LoadOptions
) -> Any:
    """Deserialize the estimator file ``name`` (checked against trust before it is opened)."""
    prefix = f"flavors.{FLAVOR_NAME}"
    fmt = _check_format(flavor.get("serialization_format", PICKLE), f"{prefix}.serialization_format")
    saved_version = flavor.get("sklearn_version")
    if fmt == SKOPS:
        model = read_skops(model_dir, name, field=field, flavor=flavor, prefix=prefix, options=options)
    else:
        require_trust(options, f"the {fmt} file '{name}' ({field}) of the model at '{model_dir}'")
        file = model_file(model_dir, name, field=field)
        with open(file, "rb") as f:
            if fmt == CLOUDPICKLE:
                import cloudpickle

                model = cloudpickle.load(f)
            else:
                model = pickle.load(f)  # a trusted model: checked above
    _warn_version(saved_version)
    return model


def _warn_version(saved_version: object) -> None:
    if saved_version is None:
        return
    import sklearn

    if saved_version != sklearn.__version__:
        logger.warning(
            "The model was saved with scikit-learn %s and is loaded with %s; its predictions may differ",
            saved_version,
            sklearn.__version__,
        )


def load_model(
    model_uri: str,
    *,
    trusted: bool | None = None,
    skops_trusted_types: Sequence[str] = (),
    dst_path: str | os.PathLike[str] | None = None,
    tracking_uri: str | None = None,
) -> Any:
    """Load the scikit-learn estimator of the model ``model_uri`` names (any Wayline model URI).

    skops models load when every type they need is allowed (see the module docstring); pickled models
    and models with a ``code`` directory need ``trusted=True`` or ``WAYLINE_TRUSTED_MODELS=true``.
    """
    from wayline.models.flavor import native_flavor

    options = load_options(trusted, skops_trusted_types)
    model_dir, flavor = native_flavor(
        model_uri, FLAVOR_NAME, options, tracking_uri=tracking_uri, dst_path=dst_path
    )
    field = f"flavors.{FLAVOR_NAME}.pickled_model"
    return _load_file(model_dir, flavor.get("pickled_model"), field, flavor, options)


def load_pyfunc(model_dir: Path, metadata: MLModel, options: LoadOptions) -> SklearnPredictor:
    """The estimator behind ``wayline.pyfunc.load_model`` (python_function ``model_path``, ``predict_fn``)."""
    pyfunc = metadata.flavor(PYFUNC)
    # MLflow assumes pickle when the sklearn flavor is missing; so does Wayline (which then needs trust).
    flavor = metadata.flavors.get(FLAVOR_NAME, {"serialization_format": PICKLE})
    field = f"flavors.{PYFUNC}.model_path"
    name = pyfunc.get("model_path", flavor.get("pickled_model"))
    predict_fn = _check_predict_fn(pyfunc.get("predict_fn", "predict"), f"flavors.{PYFUNC}.predict_fn")
    model = _load_file(model_dir, name, field, flavor, options)
    return SklearnPredictor(model, predict_fn)


__all__ = [
    "FLAVOR_NAME",
    "LOADER_MODULE",
    "SERIALIZATION_FORMATS",
    "SklearnPredictor",
    "load_model",
    "load_pyfunc",
    "log_model",
    "save_model",
]
