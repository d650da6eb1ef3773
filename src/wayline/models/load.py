"""``load_model``: any model URI to a :class:`PyFuncModel` (this is ``wayline.pyfunc.load_model``)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from wayline.models.flavor import load_pyfunc_dir
from wayline.models.location import local_model_dir
from wayline.models.pyfunc_model import PyFuncModel
from wayline.models.trust import load_options


def load_model(
    model_uri: str,
    *,
    trusted: bool | None = None,
    dst_path: str | os.PathLike[str] | None = None,
    tracking_uri: str | None = None,
    skops_trusted_types: Sequence[str] = (),
) -> PyFuncModel:
    """Load the model ``model_uri`` names through its ``python_function`` flavor.

    ``model_uri`` is a local path, ``file:``, ``runs:/<run_id>/<path>``, ``models:/<name>/<version>``,
    ``models:/<name>@<alias>``, ``models:/<model_id>``, ``s3://``, ``mlflow-artifacts:/`` or http(s).
    Models that would run code on load (pickle, models from code, code directories) need
    ``trusted=True`` or ``WAYLINE_TRUSTED_MODELS=true``; extra skops types can be allowed with
    ``skops_trusted_types``.
    """
    options = load_options(trusted, skops_trusted_types)
    return load_pyfunc_dir(local_model_dir(model_uri, tracking_uri=tracking_uri, dst_path=dst_path), options)


__all__ = ["load_model"]
