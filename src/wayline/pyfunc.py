"""``wayline.pyfunc``: every model as a Python function, whatever framework made it.

:func:`load_model` loads any Wayline or MLflow model (``runs:/``, ``models:/``, local, ``s3://``,
``mlflow-artifacts:/`` URIs) as a :class:`PyFuncModel` whose ``predict`` enforces the signature;
:class:`PythonModel` with :func:`save_model` / :func:`log_model` packages custom models (or models from code,
with :func:`set_model`); :func:`spark_udf` scores on Apache Spark. See ``docs/pyfunc.md``.
"""

from __future__ import annotations

from wayline.models.flavors.pyfunc import (
    PythonModel,
    PythonModelContext,
    log_model,
    save_model,
    set_model,
)
from wayline.models.load import load_model
from wayline.models.log import ModelInfo
from wayline.models.pyfunc_model import PyFuncModel
from wayline.models.spark import spark_udf

__all__ = [
    "ModelInfo",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "load_model",
    "log_model",
    "save_model",
    "set_model",
    "spark_udf",
]
