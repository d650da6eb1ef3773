"""The ``lightgbm`` flavor: LightGBM boosters and scikit-learn API models (``LGBMClassifier``...).

MLflow's layout: flavor keys ``lgb_version``, ``data``, ``model_class``, ``code``, ``serialization_format``,
``skops_trusted_types``; ``python_function`` with ``loader_module: mlflow.lightgbm`` and ``data``.

* A ``Booster`` is stored in LightGBM's native text format, ``model.lgb``: data only.
* A scikit-learn API model is stored with skops (``model.skops``), as MLflow 3 does by default: data only,
  the types it needs (``lightgbm.basic.Booster``, ``lightgbm.sklearn.LGBMClassifier``,
  ``collections.OrderedDict``...) are on Wayline's skops allow-list, and the file holds the booster's text
  model plus the wrapper's parameters and fitted attributes.
* MLflow can also store scikit-learn API models with ``cloudpickle``/``pickle`` (``model.pkl``); Wayline
  loads those only when the model is trusted, and never writes them.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wayline.errors import InvalidParameterValue, invalid_value
from wayline.models.mlmodel import PYFUNC, MLModel
from wayline.models.skops_file import read_skops, type_names, write_skops
from wayline.models.trust import LoadOptions, load_options, model_file, require_trust

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from wayline.models.log import LogOptions, ModelInfo, SaveOptions

logger = logging.getLogger(__name__)

FLAVOR_NAME = "lightgbm"
LOADER_MODULE = "mlflow.lightgbm"
BOOSTER_CLASS = "lightgbm.basic.Booster"
BOOSTER_FILE = "model.lgb"
SKOPS_FILE = "model.skops"
SKOPS = "skops"
#: Formats of scikit-learn API models; the pickle ones are read (trusted models only), never written.
SERIALIZATION_FORMATS = (SKOPS, "cloudpickle", "pickle")


def _qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _class_name(lgb_model: Any) -> str:
    import lightgbm

    if not isinstance(lgb_model, (lightgbm.Booster, lightgbm.LGBMModel)):
        raise invalid_value(
            "lgb_model",
            type(lgb_model).__name__,
            "must be a lightgbm Booster or a LightGBM scikit-learn model",
        )
    return _qualified_name(type(lgb_model))


class LightGBMPredictor:
    """The loaded model behind a PyFuncModel: ``predict`` of the booster or the scikit-learn model."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        if params:
            logger.warning("The lightgbm model ignores the params %s", ", ".join(sorted(params)))
        return self.raw.predict(data)


def save_model(
    lgb_model: Any,
    path: str | os.PathLike[str],
    *,
    skops_trusted_types: Sequence[str] | None = None,
    **options: Unpack[SaveOptions],
) -> MLModel:
    """Save a LightGBM ``Booster`` (native text, ``model.lgb``) or scikit-learn API model (skops,
    ``model.skops``) to the directory ``path``; returns the MLmodel. ``skops_trusted_types`` adds types a
    custom scikit-learn API model needs beyond Wayline's allow-list."""
    import lightgbm

    from wayline.models.package import PyfuncEntry, save_model_dir

    class_name = _class_name(lgb_model)
    extra_types = type_names(skops_trusted_types, "skops_trusted_types")
    is_booster = isinstance(lgb_model, lightgbm.Booster)
    file_name = BOOSTER_FILE if is_booster else SKOPS_FILE

    def write_data(target: Path) -> dict[str, Any]:
        config: dict[str, Any] = {
            "lgb_version": lightgbm.__version__,
            "data": file_name,
            "model_class": class_name,
            "code": None,
        }
        if is_booster:
            lgb_model.save_model(str(target / file_name))
            config["serialization_format"] = None
            config["skops_trusted_types"] = None
        else:
            config["serialization_format"] = SKOPS
            config["skops_trusted_types"] = write_skops(
                lgb_model, target / file_name, extra_types, field="lgb_model"
            )
        return config

    return save_model_dir(
        path,
        flavor=FLAVOR_NAME,
        write_data=write_data,
        pyfunc=PyfuncEntry(loader_module=LOADER_MODULE, config={"data": file_name}),
        packages=["lightgbm"] if is_booster else ["lightgbm", "scikit-learn", "skops"],
        predict=LightGBMPredictor(lgb_model).predict,
        **options,
    )


def log_model(
    lgb_model: Any,
    name: str = "model",
    *,
    skops_trusted_types: Sequence[str] | None = None,
    **options: Unpack[LogOptions],
) -> ModelInfo:
    """Save the model like :func:`save_model` and log it to the active run (optionally registering it)."""
    from wayline.models.log import log_flavor_model

    def save(target: Path, saving: SaveOptions) -> MLModel:
        return save_model(
            lgb_model,
            target,
            skops_trusted_types=skops_trusted_types,
            **saving,
        )

    return log_flavor_model(save, name, options)


def _load(model_dir: Path, flavor: Mapping[str, Any], data: object, field: str, options: LoadOptions) -> Any:
    prefix = f"flavors.{FLAVOR_NAME}"
    model_class = flavor.get("model_class", BOOSTER_CLASS)
    if not isinstance(model_class, str):
        raise invalid_value(f"{prefix}.model_class", model_class, "must be a class name")
    if model_class == BOOSTER_CLASS:
        import lightgbm

        file = model_file(model_dir, data, field=field)
        if not file.is_file():
            raise invalid_value(field, data, "must name a file")
        try:
            return lightgbm.Booster(model_file=str(file))
        except Exception as exc:  # LightGBMError for a bad file
            raise InvalidParameterValue(
                f"The LightGBM model file '{data}' ({field}) cannot be read: {exc}"
            ) from None
    # MLflow assumes cloudpickle when a scikit-learn API model has no serialization_format.
    fmt = flavor.get("serialization_format") or "cloudpickle"
    if fmt not in SERIALIZATION_FORMATS:
        raise invalid_value(
            f"{prefix}.serialization_format", fmt, f"must be one of {', '.join(SERIALIZATION_FORMATS)}"
        )
    if fmt == SKOPS:
        return read_skops(model_dir, data, field=field, flavor=flavor, prefix=prefix, options=options)
    require_trust(options, f"the {fmt} file '{data}' ({field}) of the model at '{model_dir}'")
    file = model_file(model_dir, data, field=field)
    with open(file, "rb") as f:
        if fmt == "cloudpickle":
            import cloudpickle

            return cloudpickle.load(f)
        return pickle.load(f)  # a trusted model: checked above


def load_model(
    model_uri: str,
    *,
    trusted: bool | None = None,
    skops_trusted_types: Sequence[str] = (),
    dst_path: str | os.PathLike[str] | None = None,
    tracking_uri: str | None = None,
) -> Any:
    """The LightGBM model (``Booster`` or scikit-learn API model) of the model ``model_uri`` names.

    Boosters and skops files load without trust (skops types checked against the allow-list and
    ``skops_trusted_types``); pickled models and models with a ``code`` directory need ``trusted=True``
    or ``WAYLINE_TRUSTED_MODELS=true``.
    """
    from wayline.models.flavor import native_flavor

    options = load_options(trusted, skops_trusted_types)
    model_dir, flavor = native_flavor(
        model_uri, FLAVOR_NAME, options, tracking_uri=tracking_uri, dst_path=dst_path
    )
    return _load(model_dir, flavor, flavor.get("data"), f"flavors.{FLAVOR_NAME}.data", options)


def load_pyfunc(model_dir: Path, metadata: MLModel, options: LoadOptions) -> LightGBMPredictor:
    """The model behind ``wayline.pyfunc.load_model`` (the ``lightgbm`` flavor's file and format)."""
    flavor = metadata.flavors.get(FLAVOR_NAME)
    if flavor is None:
        pyfunc = metadata.flavor(PYFUNC)
        return LightGBMPredictor(_load(model_dir, {}, pyfunc.get("data"), f"flavors.{PYFUNC}.data", options))
    field = f"flavors.{FLAVOR_NAME}.data"
    return LightGBMPredictor(_load(model_dir, flavor, flavor.get("data"), field, options))


__all__ = [
    "FLAVOR_NAME",
    "LOADER_MODULE",
    "SERIALIZATION_FORMATS",
    "LightGBMPredictor",
    "load_model",
    "load_pyfunc",
    "log_model",
    "save_model",
]
