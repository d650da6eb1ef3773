"""``wayline.xgboost``: XGBoost models in MLflow's layout: ``save_model``, ``log_model`` (to the active run,
optionally registering it) and ``load_model`` (the native object; ``wayline.pyfunc.load_model`` gives the
generic one). See ``docs/flavors.md``.
"""

from __future__ import annotations

from wayline.models.flavors.xgboost import FLAVOR_NAME, load_model, log_model, save_model

__all__ = ["FLAVOR_NAME", "load_model", "log_model", "save_model"]
