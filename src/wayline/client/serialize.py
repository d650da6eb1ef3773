"""Turning Python objects into artifact bytes: text, dictionaries, matplotlib figures and images.

Each function checks its input and raises :class:`InvalidParameterValue` naming the argument, or a
:class:`WaylineError` saying which optional package to install, before anything is written.
"""

from __future__ import annotations

import io
import json
import math
import posixpath
from typing import Any

from wayline.artifacts.path import safe_relative_path
from wayline.errors import WaylineError, invalid_value

_YAML_SUFFIXES = (".yaml", ".yml")
_IMAGE_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".gif": "GIF",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
}


def artifact_file_name(artifact_file: object, field: str = "artifact_file") -> str:
    """A safe relative path naming a file inside a run's artifacts (checked before anything is written)."""
    if not isinstance(artifact_file, str) or not artifact_file.strip():
        raise invalid_value(field, artifact_file, "must be a non-empty file path such as 'dir/name.ext'")
    if artifact_file.endswith(("/", "\\")):
        raise invalid_value(field, artifact_file, "must name a file, not a directory")
    if not safe_relative_path(artifact_file, field=field):
        raise invalid_value(field, artifact_file, "must name a file inside the run's artifacts")
    return artifact_file


def artifact_directory(artifact_path: object, field: str = "artifact_path") -> str | None:
    """None (the root) or a safe relative directory path."""
    if artifact_path is None:
        return None
    if not isinstance(artifact_path, str):
        raise invalid_value(field, artifact_path, "must be a string")
    safe_relative_path(artifact_path, field=field)
    return artifact_path


def _suffix(artifact_file: str) -> str:
    return posixpath.splitext(artifact_file.replace("\\", "/"))[1].lower()


def text_bytes(text: object) -> bytes:
    if not isinstance(text, str):
        raise invalid_value("text", text, "must be a string")
    return text.encode("utf-8")


def dict_bytes(dictionary: object, artifact_file: str) -> bytes:
    """JSON (indented, keys kept in order), or YAML when ``artifact_file`` ends in ``.yaml``/``.yml``."""
    if not isinstance(dictionary, dict):
        raise invalid_value("dictionary", dictionary, "must be a dict")
    if _suffix(artifact_file) in _YAML_SUFFIXES:
        import yaml

        try:
            text = yaml.safe_dump(dictionary, sort_keys=False, allow_unicode=True, default_flow_style=False)
        except yaml.YAMLError as exc:
            raise invalid_value("dictionary", dictionary, f"cannot be written as YAML: {exc}") from None
        return text.encode("utf-8")
    try:
        text = json.dumps(dictionary, indent=2, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError) as exc:
        raise invalid_value("dictionary", dictionary, f"cannot be written as JSON: {exc}") from None
    return (text + "\n").encode("utf-8")


def figure_bytes(figure: object, artifact_file: str, save_kwargs: dict[str, Any] | None = None) -> bytes:
    """A matplotlib figure saved in the format its file extension names (PNG when there is none)."""
    try:
        import matplotlib.figure
    except ImportError:
        raise WaylineError(
            "log_figure needs matplotlib, which is not installed: pip install matplotlib"
        ) from None
    if not isinstance(figure, matplotlib.figure.Figure):
        raise invalid_value("figure", figure, "must be a matplotlib.figure.Figure")
    if save_kwargs is not None and not isinstance(save_kwargs, dict):
        raise invalid_value("save_kwargs", save_kwargs, "must be a dict")
    fmt = _suffix(artifact_file).lstrip(".") or "png"
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format=fmt, **(save_kwargs or {}))
    except ValueError as exc:
        raise invalid_value(
            "artifact_file", artifact_file, f"matplotlib cannot save this format: {exc}"
        ) from None
    return buffer.getvalue()


def _array_to_pil(image: Any, pil_image: Any) -> Any:
    import numpy as np

    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise invalid_value(
            "image", f"array of shape {array.shape}", "must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)"
        )
    if array.size == 0:
        raise invalid_value("image", f"array of shape {array.shape}", "must not be empty")
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    elif np.issubdtype(array.dtype, np.floating):
        low, high = float(np.nanmin(array)), float(np.nanmax(array))
        if math.isnan(low) or low < 0.0 or high > 1.0:
            raise invalid_value("image", f"float array in [{low}, {high}]", "float pixels must lie in [0, 1]")
        array = np.round(array * 255).astype(np.uint8)
    elif np.issubdtype(array.dtype, np.integer):
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > 255:
            raise invalid_value(
                "image", f"integer array in [{low}, {high}]", "integer pixels must lie in [0, 255]"
            )
        array = array.astype(np.uint8)
    else:
        raise invalid_value("image", f"array of dtype {array.dtype}", "must hold numbers")
    return pil_image.fromarray(np.ascontiguousarray(array))


def image_bytes(image: object, artifact_file: str) -> bytes:
    """A numpy array (integers in [0, 255] or floats in [0, 1]) or a PIL image, encoded by Pillow in the
    format the file extension names (.png, .jpg, .gif, .bmp, .tiff, .webp)."""
    try:
        from PIL import Image
    except ImportError:
        raise WaylineError("log_image needs Pillow, which is not installed: pip install pillow") from None
    fmt = _IMAGE_FORMATS.get(_suffix(artifact_file))
    if fmt is None:
        allowed = ", ".join(sorted(_IMAGE_FORMATS))
        raise invalid_value("artifact_file", artifact_file, f"must end in one of {allowed}")
    if isinstance(image, Image.Image):
        pil = image
    elif hasattr(image, "__array__") or isinstance(image, (list, tuple)):
        try:
            import numpy  # noqa: F401
        except ImportError:
            raise WaylineError("log_image of arrays needs numpy, which is not installed") from None
        pil = _array_to_pil(image, Image)
    else:
        raise invalid_value("image", image, "must be a numpy array or a PIL.Image.Image")
    if fmt == "JPEG" and pil.mode not in ("RGB", "L"):
        pil = pil.convert("RGB")
    buffer = io.BytesIO()
    try:
        pil.save(buffer, format=fmt)
    except (OSError, ValueError) as exc:
        raise invalid_value("image", image, f"Pillow cannot write it as {fmt}: {exc}") from None
    return buffer.getvalue()


__all__ = [
    "artifact_directory",
    "artifact_file_name",
    "dict_bytes",
    "figure_bytes",
    "image_bytes",
    "text_bytes",
]
