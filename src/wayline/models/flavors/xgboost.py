"""The ``xgboost`` flavor: XGBoost boosters and scikit-learn API models in XGBoost's native format.

MLflow's layout: ``model.ubj`` (or ``model.json``) written by ``save_model`` of the model itself, flavor keys
``xgb_version``, ``data``, ``model_class``, ``model_format``, ``code``; ``python_function`` with
``loader_module: mlflow.xgboost`` and ``data``. The native format is data only, so loading needs no trust.
For ``XGBClassifier`` and friends XGBoost stores the wrapper's attributes in the same file; the wrapper is
rebuilt from ``model_class``, which must name one of :data:`MODEL_CLASSES` (Wayline never imports a class
an MLmodel names).
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from wayline.errors import InvalidParameterValue, invalid_value
from wayline.models.mlmodel import PYFUNC, MLModel
from wayline.models.trust import LoadOptions, load_options, model_file

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from wayline.models.log import LogOptions, ModelInfo, SaveOptions

logger = logging.getLogger(__name__)

FLAVOR_NAME = "xgboost"
LOADER_MODULE = "mlflow.xgboost"
MODEL_FORMATS = ("ubj", "json")
BOOSTER_CLASS = "xgboost.core.Booster"
#: The model classes Wayline rebuilds, by the fully qualified name MLflow records -> ``xgboost`` attribute.
MODEL_CLASSES: dict[str, str] = {
    BOOSTER_CLASS: "Booster",
    "xgboost.sklearn.XGBModel": "XGBModel",
    "xgboost.sklearn.XGBClassifier": "XGBClassifier",
    "xgboost.sklearn.XGBRegressor": "XGBRegressor",
    "xgboost.sklearn.XGBRanker": "XGBRanker",
    "xgboost.sklearn.XGBRFClassifier": "XGBRFClassifier",
    "xgboost.sklearn.XGBRFRegressor": "XGBRFRegressor",
}


def _qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def model_class_name(xgb_model: Any) -> str:
    """The allow-listed class name recorded for ``xgb_model`` (a subclass is recorded as its nearest
    allow-listed base, since only those are rebuilt on load)."""
    for cls in type(xgb_model).__mro__:
        name = _qualified_name(cls)
        if name in MODEL_CLASSES:
            if cls is not type(xgb_model):
                logger.warning(
                    "%s is recorded as %s: loading rebuilds that class",
                    _qualified_name(type(xgb_model)),
                    name,
                )
            return name
    raise invalid_value(
        "xgb_model", type(xgb_model).__name__, "must be an xgboost Booster or an XGBoost scikit-learn model"
    )


def _model_class(name: object, field: str) -> Any:
    """The xgboost class an MLmodel's ``model_class`` names, from the fixed allow-list."""
    if name not in MODEL_CLASSES:
        raise invalid_value(
            field, name, f"Wayline loads only these XGBoost classes: {', '.join(MODEL_CLASSES)}"
        )
    import xgboost

    return getattr(xgboost, MODEL_CLASSES[str(name)])


class XGBoostPredictor:
    """The loaded model behind a PyFuncModel; ``params`` the predict method accepts are passed on."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import xgboost

        if isinstance(self.raw, xgboost.Booster):
            method = self.raw.predict
            accepted = _accepted(method, params)
            return method(xgboost.DMatrix(data), validate_features=True, **accepted)
        method = self.raw.predict
        accepted = _accepted(method, params)
        accepted.setdefault("validate_features", True)
        return method(data, **accepted)


def _accepted(method: Any, params: Mapping[str, Any] | None) -> dict[str, Any]:
    if not params:
        return {}
    names = inspect.signature(method).parameters
    accepted = {k: v for k, v in params.items() if k in names and k not in ("data", "X", "validate_features")}
    ignored = sorted(set(params) - set(accepted))
    if ignored:
        logger.warning("The xgboost model ignores the params %s", ", ".join(ignored))
    return accepted


def save_model(
    xgb_model: Any,
    path: str | os.PathLike[str],
    *,
    model_format: Literal["ubj", "json"] = "ubj",
    **options: Unpack[SaveOptions],
) -> MLModel:
    """Save an XGBoost ``Booster`` or scikit-learn API model (``XGBClassifier``...) to the directory
    ``path`` in XGBoost's native format (``model_format`` ``ubj`` or ``json``); returns the MLmodel."""
    import xgboost

    from wayline.models.package import PyfuncEntry, save_model_dir

    if model_format not in MODEL_FORMATS:
        raise invalid_value("model_format", model_format, f"must be one of {', '.join(MODEL_FORMATS)}")
    class_name = model_class_name(xgb_model)
    file_name = f"model.{model_format}"

    def write_data(target: Path) -> dict[str, Any]:
        xgb_model.save_model(str(target / file_name))
        return {
            "xgb_version": xgboost.__version__,
            "data": file_name,
            "model_class": class_name,
            "model_format": model_format,
            "code": None,
        }

    predictor = XGBoostPredictor(xgb_model)
    return save_model_dir(
        path,
        flavor=FLAVOR_NAME,
        write_data=write_data,
        pyfunc=PyfuncEntry(loader_module=LOADER_MODULE, config={"data": file_name}),
        packages=["xgboost"],
        predict=predictor.predict,
        **options,
    )


def log_model(
    xgb_model: Any,
    name: str = "model",
    *,
    model_format: Literal["ubj", "json"] = "ubj",
    **options: Unpack[LogOptions],
) -> ModelInfo:
    """Save the model like :func:`save_model` and log it to the active run (optionally registering it)."""
    from wayline.models.log import log_flavor_model

    if model_format not in MODEL_FORMATS:
        raise invalid_value("model_format", model_format, f"must be one of {', '.join(MODEL_FORMATS)}")

    def save(target: Path, saving: SaveOptions) -> MLModel:
        return save_model(
            xgb_model,
            target,
            model_format=model_format,
            **saving,
        )

    return log_flavor_model(save, name, options)


def _load(model_dir: Path, flavor: Mapping[str, Any], data: object, field: str) -> Any:
    prefix = f"flavors.{FLAVOR_NAME}"
    cls = _model_class(flavor.get("model_class", BOOSTER_CLASS), f"{prefix}.model_class")
    file = model_file(model_dir, data, field=field)
    if not file.is_file():
        raise invalid_value(field, data, "must name a file")
    model = cls()
    try:
        model.load_model(str(file))
    except Exception as exc:  # xgboost raises its own XGBoostError for a bad file
        raise InvalidParameterValue(
            f"The XGBoost model file '{data}' ({field}) cannot be read: {exc}"
        ) from None
    saved = flavor.get("xgb_version")
    import xgboost

    if isinstance(saved, str) and saved != xgboost.__version__:
        logger.info("The model was saved with xgboost %s and is loaded with %s", saved, xgboost.__version__)
    return model


def load_model(
    model_uri: str,
    *,
    trusted: bool | None = None,
    dst_path: str | os.PathLike[str] | None = None,
    tracking_uri: str | None = None,
) -> Any:
    """The XGBoost model (``Booster`` or the recorded scikit-learn API class) of the model ``model_uri``
    names. The native format needs no trust; a model with a ``code`` directory does."""
    from wayline.models.flavor import native_flavor

    options = load_options(trusted)
    model_dir, flavor = native_flavor(
        model_uri, FLAVOR_NAME, options, tracking_uri=tracking_uri, dst_path=dst_path
    )
    return _load(model_dir, flavor, flavor.get("data"), f"flavors.{FLAVOR_NAME}.data")


def load_pyfunc(model_dir: Path, metadata: MLModel, options: LoadOptions) -> XGBoostPredictor:
    """The model behind ``wayline.pyfunc.load_model`` (the ``xgboost`` flavor's file and class)."""
    flavor = metadata.flavors.get(FLAVOR_NAME)
    if flavor is None:
        pyfunc = metadata.flavor(PYFUNC)
        return XGBoostPredictor(_load(model_dir, {}, pyfunc.get("data"), f"flavors.{PYFUNC}.data"))
    return XGBoostPredictor(_load(model_dir, flavor, flavor.get("data"), f"flavors.{FLAVOR_NAME}.data"))


__all__ = [
    "FLAVOR_NAME",
    "LOADER_MODULE",
    "MODEL_CLASSES",
    "MODEL_FORMATS",
    "XGBoostPredictor",
    "load_model",
    "load_pyfunc",
    "log_model",
    "model_class_name",
    "save_model",
]
