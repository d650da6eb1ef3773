"""``PyFuncModel``: any flavor's model behind one ``predict``, with its signature enforced.

A flavor's ``load_pyfunc`` returns a :class:`PredictImpl`; ``PyFuncModel.predict`` checks and converts the
input against the signature's inputs (missing columns, wrong types, safe casts) and the params against its
params, then calls the implementation.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from wayline.errors import InvalidParameterValue

if TYPE_CHECKING:
    from wayline.models.mlmodel import MLModel
    from wayline.models.signature import ModelSignature, Schema


class PredictImpl(Protocol):
    """What a flavor's ``load_pyfunc`` returns: input already enforced; output an array, frame, list, dict."""

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any: ...


class PyFuncModel:
    """A loaded model: ``predict``, its ``metadata`` (the MLmodel) and the local ``path`` it came from."""

    def __init__(self, impl: PredictImpl, metadata: MLModel, path: Path) -> None:
        self._impl = impl
        self.metadata = metadata
        self.path = Path(path)

    @property
    def signature(self) -> ModelSignature | None:
        return self.metadata.signature

    @property
    def input_schema(self) -> Schema | None:
        return self.signature.inputs if self.signature is not None else None

    @property
    def output_schema(self) -> Schema | None:
        return self.signature.outputs if self.signature is not None else None

    @property
    def loader_module(self) -> str | None:
        pyfunc = self.metadata.pyfunc
        return None if pyfunc is None else pyfunc.get("loader_module")

    @property
    def impl(self) -> PredictImpl:
        return self._impl

    def predict(self, data: Any, params: Mapping[str, Any] | None = None) -> Any:
        """Score ``data`` (pandas DataFrame, numpy array, dict of arrays, lists or records as the signature
        allows); ``params`` are checked against the signature's params and defaults filled in."""
        from wayline.models.enforce import enforce_input, enforce_params

        signature = self.signature
        checked_input = enforce_input(data, signature.inputs if signature is not None else None)
        checked_params = enforce_params(params, signature.params if signature is not None else None)
        return self._impl.predict(checked_input, checked_params)

    def unwrap_python_model(self) -> Any:
        """The user's ``PythonModel`` object of a pyfunc model (its ``raw`` model for other flavors)."""
        for name in ("python_model", "raw"):
            value = getattr(self._impl, name, None)
            if value is not None:
                return value
        raise InvalidParameterValue(f"The model at '{self.path}' has no Python model to unwrap")

    def get_raw_model(self) -> Any:
        """The flavor's native model object (sklearn estimator, booster, torch module...)."""
        raw = getattr(self._impl, "raw", None)
        if raw is None:
            raise InvalidParameterValue(f"The model at '{self.path}' does not expose its native model")
        return raw

    def __repr__(self) -> str:
        flavors = ", ".join(sorted(self.metadata.flavors))
        return f"PyFuncModel(path={str(self.path)!r}, flavors=[{flavors}], loader={self.loader_module!r})"


__all__ = ["PredictImpl", "PyFuncModel"]
