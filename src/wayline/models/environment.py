"""A model's environment: pinned requirements, ``requirements.txt``, ``python_env.yaml`` and ``conda.yaml``.

Requirements are pinned as MLflow pins them: ``name==version`` of the installed distribution, with a local
version label dropped (``torch==2.13.0``, not ``2.13.0+cpu``) so the pin installs from PyPI. The files have
MLflow's layout, so ``mlflow models serve`` and ``wayline models serve`` can rebuild the environment.
"""

from __future__ import annotations

import importlib.metadata
import logging
import platform
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from wayline.errors import invalid_value

logger = logging.getLogger(__name__)

REQUIREMENTS_FILE = "requirements.txt"
PYTHON_ENV_FILE = "python_env.yaml"
CONDA_FILE = "conda.yaml"
#: Distributions every model needs to be scored through ``PyFuncModel`` (signature enforcement).
BASE_PACKAGES = ("numpy", "pandas")
#: Largest environment file read back.
MAX_ENV_FILE_BYTES = 1024 * 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def python_version() -> str:
    return platform.python_version()


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution`` without a local label, or None when not installed."""
    try:
        version = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    return version.split("+", 1)[0]


def requirement_name(requirement: str) -> str:
    """The distribution name of a requirement line (``scikit-learn>=1.3`` -> ``scikit-learn``)."""
    match = _NAME.match(requirement.strip())
    return match.group(0).lower().replace("_", "-") if match else requirement.strip().lower()


def pin(distribution: str) -> str:
    """``name==version`` of an installed distribution; the bare name (with a log line) when it is missing."""
    version = installed_version(distribution)
    if version is None:
        logger.warning("%s is not installed; its requirement is written without a version", distribution)
        return distribution
    return f"{distribution}=={version}"


def _lines(value: Sequence[str] | None, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not all(isinstance(line, str) and line.strip() for line in value):
        raise invalid_value(field, value, "must be a list of requirement strings")
    for line in value:
        if "\n" in line or "\r" in line:
            raise invalid_value(field, line, "a requirement must be one line")
    return [line.strip() for line in value]


def model_requirements(
    packages: Sequence[str],
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
) -> list[str]:
    """The requirement lines of a model: ``pip_requirements`` as given, or the pinned ``packages`` (and
    :data:`BASE_PACKAGES`), then ``extra_pip_requirements``; one line per distribution."""
    if pip_requirements is not None and extra_pip_requirements is not None:
        raise invalid_value(
            "extra_pip_requirements", extra_pip_requirements, "cannot be combined with pip_requirements"
        )
    if pip_requirements is not None:
        base = _lines(pip_requirements, "pip_requirements")
    else:
        base = [pin(name) for name in dict.fromkeys([*packages, *BASE_PACKAGES])]
    extra = _lines(extra_pip_requirements, "extra_pip_requirements")
    out: dict[str, str] = {}
    for line in base:
        out[requirement_name(line)] = line
    for line in extra:  # an extra requirement replaces the pinned one of the same distribution
        out[requirement_name(line)] = line
    return sorted(out.values(), key=str.lower)


def _pip_build_dependencies() -> list[str]:
    return [
        pin("pip") if installed_version("pip") else "pip",
        pin("setuptools") if installed_version("setuptools") else "setuptools",
        "wheel",
    ]


def write_environment(model_dir: Path, requirements: Sequence[str]) -> dict[str, str]:
    """Write ``requirements.txt``, ``python_env.yaml`` and ``conda.yaml``; return the pyfunc ``env`` entry."""
    model_dir = Path(model_dir)
    lines = list(requirements)
    (model_dir / REQUIREMENTS_FILE).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    python = python_version()
    python_env = {
        "python": python,
        "build_dependencies": _pip_build_dependencies(),
        "dependencies": [f"-r {REQUIREMENTS_FILE}"],
    }
    (model_dir / PYTHON_ENV_FILE).write_text(yaml.safe_dump(python_env, sort_keys=False), encoding="utf-8")
    pip_version = installed_version("pip")
    conda: dict[str, Any] = {
        "channels": ["conda-forge"],
        "dependencies": [f"python={python}", f"pip<={pip_version}" if pip_version else "pip", {"pip": lines}],
        "name": "wayline-env",
    }
    (model_dir / CONDA_FILE).write_text(yaml.safe_dump(conda, sort_keys=False), encoding="utf-8")
    return {"conda": CONDA_FILE, "virtualenv": PYTHON_ENV_FILE}


def _read_text(model_dir: Path, name: str, field: str) -> str | None:
    from wayline.models.trust import model_file

    candidate = Path(model_dir) / name
    if not candidate.exists() and not candidate.is_symlink():
        return None
    path = model_file(model_dir, name, field=field)
    if path.stat().st_size > MAX_ENV_FILE_BYTES:
        raise invalid_value(field, name, f"larger than the limit of {MAX_ENV_FILE_BYTES} bytes")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise invalid_value(field, name, "is not UTF-8 text") from None


def read_requirements(model_dir: Path) -> list[str]:
    """The requirement lines of a model's ``requirements.txt`` (comments and blank lines dropped; empty when
    the file is missing)."""
    text = _read_text(model_dir, REQUIREMENTS_FILE, "requirements.txt")
    if text is None:
        return []
    lines = [line.split(" #", 1)[0].strip() for line in text.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def read_python_version(model_dir: Path) -> str | None:
    """The Python version of a model's ``python_env.yaml`` (None when missing)."""
    text = _read_text(model_dir, PYTHON_ENV_FILE, "python_env.yaml")
    if text is None:
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise invalid_value("python_env.yaml", PYTHON_ENV_FILE, "is not valid YAML") from None
    version = data.get("python") if isinstance(data, dict) else None
    if version is None:
        return None
    if not isinstance(version, (str, float, int)) or not re.match(r"^\d+(\.\d+){0,2}$", str(version)):
        raise invalid_value("python_env.yaml.python", version, "must be a version like 3.11.7")
    return str(version)


__all__ = [
    "BASE_PACKAGES",
    "CONDA_FILE",
    "PYTHON_ENV_FILE",
    "REQUIREMENTS_FILE",
    "installed_version",
    "model_requirements",
    "pin",
    "python_version",
    "read_python_version",
    "read_requirements",
    "requirement_name",
    "write_environment",
]
