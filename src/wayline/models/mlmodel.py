"""The ``MLmodel`` file: a model directory's description, in MLflow's YAML layout.

Wayline writes MLflow's field names (``flavors``, ``model_uuid``, ``utc_time_created``, ``run_id``,
``artifact_path``, ``model_id``, ``signature``, ``saved_input_example_info``, ``model_size_bytes``,
``metadata``) plus ``wayline_version``; fields it does not know are kept and written back on re-save.

Reading is defensive: the file is size-limited, parsed with YAML's safe loader (no Python tags), its
structure is bounded (nesting and total node count, aliases included) and every known field is type
checked. Paths the file names must stay inside the model directory. A bad file is
:class:`InvalidParameterValue` naming the field, never code execution.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import yaml

from wayline.errors import InvalidParameterValue, ResourceNotFound, invalid_value

if TYPE_CHECKING:
    from wayline.models.signature import ModelSignature

MLMODEL_FILE = "MLmodel"
PYFUNC = "python_function"
#: MLflow's format of ``utc_time_created``.
TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
#: Largest MLmodel file read, nesting depth and node count of its YAML.
MAX_MLMODEL_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 40
MAX_NODES = 200_000
#: Keys of a flavor's configuration that name a file or directory of the model.
PATH_KEYS = frozenset({"model_path", "data", "code", "pickled_model", "model_data", "artifact_path"})
#: MLflow records where a models-from-code file came from, as an absolute path on the saving machine; the
#: file itself is copied to the model directory under its base name, which is all a loader may use.
CODE_PATH_KEY = "model_code_path"

_KNOWN = (
    "flavors",
    "utc_time_created",
    "model_uuid",
    "artifact_path",
    "run_id",
    "model_id",
    "signature",
    "saved_input_example_info",
    "model_size_bytes",
    "metadata",
)
_UUID = re.compile(r"^[0-9a-fA-F-]{1,64}$")


def _wayline_version() -> str:
    from wayline import __version__

    return __version__


def check_relative_path(value: object, *, field: str) -> str:
    """A relative path that stays inside the model directory (syntax only; :func:`trust.model_file`
    checks the file itself)."""
    if not isinstance(value, str) or not value:
        raise invalid_value(field, value, "must be a non-empty relative path")
    if "\x00" in value or "\\" in value:
        raise invalid_value(field, value, "must not contain NUL or backslash characters")
    pure = PurePosixPath(value)
    if pure.is_absolute() or re.match(r"^[A-Za-z]:", value):
        raise invalid_value(field, value, "must be a path relative to the model directory, not absolute")
    if ".." in pure.parts:
        raise invalid_value(field, value, "must not leave the model directory ('..')")
    return value


def _check_structure(value: object) -> None:
    """Bound the parsed YAML: nesting depth and node count (alias expansions counted each time)."""
    count = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise invalid_value("MLmodel", f"more than {MAX_NODES} values", "the file is too large")
        if depth > MAX_DEPTH:
            raise invalid_value(
                "MLmodel", f"nesting deeper than {MAX_DEPTH}", "the file is too deeply nested"
            )
        if isinstance(item, dict):
            for key, sub in item.items():
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    raise invalid_value("MLmodel", key, "mapping keys must be plain values")
                stack.append((sub, depth + 1))
        elif isinstance(item, list):
            stack.extend((sub, depth + 1) for sub in item)


def _optional_str(d: Mapping[str, Any], name: str) -> str | None:
    value = d.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_value(name, value, "must be a string or null")
    return value


def _optional_mapping(d: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = d.get(name)
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise invalid_value(name, value, "must be a mapping with string keys or null")
    return dict(value)


def code_file_name(model_code_path: str, *, field: str = "model_code_path") -> str:
    """The path inside the model directory of the models-from-code file recorded as ``model_code_path``:
    the base name of an absolute path (MLflow's record of the original file), else the relative path itself
    (which must stay inside the directory)."""
    normalized = model_code_path.replace("\\", "/")
    if normalized.startswith("/") or re.match(r"^[A-Za-z]:/", normalized):
        return check_relative_path(normalized.rsplit("/", 1)[-1], field=field)
    return check_relative_path(model_code_path, field=field)


def _check_paths(config: Mapping[str, Any], prefix: str) -> None:
    for key in PATH_KEYS & set(config):
        value = config[key]
        where = f"{prefix}.{key}"
        if value is None:
            continue
        if isinstance(value, list):
            for i, item in enumerate(value):
                check_relative_path(item, field=f"{where}[{i}]")
        else:
            check_relative_path(value, field=where)
    code_path = config.get(CODE_PATH_KEY)
    if code_path is not None:
        if not isinstance(code_path, str) or not code_path:
            raise invalid_value(f"{prefix}.{CODE_PATH_KEY}", code_path, "must be a file name")
        code_file_name(code_path, field=f"{prefix}.{CODE_PATH_KEY}")
    env = config.get("env")
    if isinstance(env, str):
        check_relative_path(env, field=f"{prefix}.env")
    elif isinstance(env, Mapping):
        for name, value in env.items():
            check_relative_path(value, field=f"{prefix}.env.{name}")
    elif env is not None:
        raise invalid_value(f"{prefix}.env", env, "must be a path or a mapping of paths")


def _flavors(value: object) -> dict[str, dict[str, Any]]:
    if not isinstance(value, Mapping) or not value:
        raise invalid_value("flavors", value, "must be a non-empty mapping of flavor name to configuration")
    out: dict[str, dict[str, Any]] = {}
    for name, config in value.items():
        if not isinstance(name, str) or not name:
            raise invalid_value("flavors", name, "flavor names must be non-empty strings")
        if not isinstance(config, Mapping) or not all(isinstance(k, str) for k in config):
            raise invalid_value(f"flavors.{name}", config, "must be a mapping with string keys")
        _check_paths(config, f"flavors.{name}")
        out[name] = dict(config)
    pyfunc = out.get(PYFUNC)
    if pyfunc is not None and not isinstance(pyfunc.get("loader_module"), str):
        raise invalid_value(
            f"flavors.{PYFUNC}.loader_module", pyfunc.get("loader_module"), "must be a module name"
        )
    return out


def _time(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime(TIME_FORMAT)
    if not isinstance(value, str) or not value:
        raise invalid_value("utc_time_created", value, f"must be a time string like '{TIME_FORMAT}'")
    return value


def _signature(value: object) -> ModelSignature | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise invalid_value("signature", value, "must be a mapping with inputs, outputs and params")
    for part in ("inputs", "outputs", "params"):
        item = value.get(part)
        if item is not None and not isinstance(item, (str, list)):
            raise invalid_value(f"signature.{part}", item, "must be a JSON string or null")
    if all(value.get(part) is None for part in ("inputs", "outputs", "params")):
        return None
    from wayline.models.signature import ModelSignature

    try:
        return ModelSignature.from_dict(value)
    except InvalidParameterValue as exc:
        if "signature" in exc.message:
            raise
        raise InvalidParameterValue(f"Invalid value for parameter 'signature': {exc.message}") from None
    except (TypeError, ValueError, KeyError) as exc:
        raise invalid_value("signature", dict(value), f"not an MLflow signature ({exc})") from None


def _example_info(d: Mapping[str, Any]) -> dict[str, Any] | None:
    info = _optional_mapping(d, "saved_input_example_info")
    if info is None:
        return None
    for key in ("artifact_path", "serving_input_path"):
        if key in info and info[key] is not None:
            check_relative_path(info[key], field=f"saved_input_example_info.{key}")
    if "artifact_path" not in info:
        raise invalid_value("saved_input_example_info.artifact_path", None, "is required")
    kind = info.get("type")
    if kind is not None and not isinstance(kind, str):
        raise invalid_value("saved_input_example_info.type", kind, "must be a string")
    return info


@dataclass
class MLModel:
    """The contents of an ``MLmodel`` file."""

    flavors: dict[str, dict[str, Any]]
    utc_time_created: str
    model_uuid: str
    artifact_path: str | None = None
    run_id: str | None = None
    model_id: str | None = None
    signature: ModelSignature | None = None
    saved_input_example_info: dict[str, Any] | None = None
    model_size_bytes: int | None = None
    metadata: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def new(cls) -> MLModel:
        """An empty description with a fresh uuid and the current UTC time."""
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        return cls(flavors={}, utc_time_created=now.strftime(TIME_FORMAT), model_uuid=uuid.uuid4().hex)

    def add_flavor(self, name: str, **config: Any) -> None:
        """Add (or replace) a flavor and its configuration."""
        if not isinstance(name, str) or not name:
            raise invalid_value("flavor", name, "must be a non-empty string")
        self.flavors[name] = dict(config)

    def flavor(self, name: str) -> dict[str, Any]:
        """The configuration of flavor ``name``; InvalidParameterValue naming it when the model lacks it."""
        config = self.flavors.get(name)
        if config is None:
            have = ", ".join(sorted(self.flavors)) or "none"
            raise InvalidParameterValue(
                f"Invalid value for parameter 'flavors': the model has no '{name}' flavor (it has: {have})"
            )
        return config

    @property
    def pyfunc(self) -> dict[str, Any] | None:
        """The ``python_function`` flavor's configuration, if the model has one."""
        return self.flavors.get(PYFUNC)

    def to_dict(self) -> dict[str, Any]:
        """The MLmodel mapping, MLflow's keys first, unknown keys kept."""
        out: dict[str, Any] = dict(self.extra)
        out.update(
            {
                "flavors": {name: dict(config) for name, config in self.flavors.items()},
                "utc_time_created": self.utc_time_created,
                "model_uuid": self.model_uuid or None,
                "artifact_path": self.artifact_path,
                "run_id": self.run_id,
                "model_id": self.model_id,
                "model_size_bytes": self.model_size_bytes,
                "wayline_version": _wayline_version(),
            }
        )
        for name in ("artifact_path", "run_id", "model_size_bytes"):
            if out[name] is None:
                del out[name]
        if self.signature is not None:
            out["signature"] = self.signature.to_dict()
        if self.saved_input_example_info is not None:
            out["saved_input_example_info"] = dict(self.saved_input_example_info)
        if self.metadata is not None:
            out["metadata"] = dict(self.metadata)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MLModel:
        """Read an MLmodel mapping; every known field is checked (InvalidParameterValue naming it)."""
        if not isinstance(d, Mapping):
            raise invalid_value("MLmodel", d, "must be a YAML mapping")
        _check_structure(d)
        if not all(isinstance(k, str) for k in d):
            raise invalid_value("MLmodel", [k for k in d if not isinstance(k, str)], "keys must be strings")
        if "flavors" not in d:
            raise invalid_value("flavors", None, "is required")
        uuid_value = d.get("model_uuid")
        if uuid_value is not None and (not isinstance(uuid_value, str) or not _UUID.match(uuid_value)):
            raise invalid_value("model_uuid", uuid_value, "must be a hex uuid string")
        size = d.get("model_size_bytes")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise invalid_value("model_size_bytes", size, "must be a non-negative integer")
        artifact_path = _optional_str(d, "artifact_path")
        if artifact_path is not None and ("\x00" in artifact_path or ".." in artifact_path.split("/")):
            raise invalid_value("artifact_path", artifact_path, "must be a plain relative path")
        return cls(
            flavors=_flavors(d["flavors"]),
            utc_time_created=_time(d.get("utc_time_created")),
            model_uuid=uuid_value or "",
            artifact_path=artifact_path,
            run_id=_optional_str(d, "run_id"),
            model_id=_optional_str(d, "model_id"),
            signature=_signature(d.get("signature")),
            saved_input_example_info=_example_info(d),
            model_size_bytes=size,
            metadata=_optional_mapping(d, "metadata"),
            extra={k: v for k, v in d.items() if k not in _KNOWN and k != "wayline_version"},
        )

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), default_flow_style=False, sort_keys=True)

    def to_json(self) -> str:
        """The JSON form MLflow sends to ``runs/log-model``."""
        import json

        return json.dumps(self.to_dict(), default=str)

    def save(self, model_dir: Path) -> None:
        """Write ``model_dir/MLmodel``."""
        Path(model_dir, MLMODEL_FILE).write_text(self.to_yaml(), encoding="utf-8")

    @classmethod
    def load(cls, path: Path | str) -> MLModel:
        """Read the MLmodel of a model directory (or an ``MLmodel`` file itself)."""
        path = Path(path)
        if path.is_dir():
            from wayline.models.trust import model_file

            candidate = path / MLMODEL_FILE
            if not candidate.exists() and not candidate.is_symlink():
                raise ResourceNotFound(f"No {MLMODEL_FILE} file in '{path}': it is not a model directory")
            path = model_file(path, MLMODEL_FILE, field="MLmodel")
        elif not path.is_file():
            raise ResourceNotFound(f"No model at '{path}'")
        size = path.stat().st_size
        if size > MAX_MLMODEL_BYTES:
            raise invalid_value(
                "MLmodel", f"{size} bytes", f"larger than the limit of {MAX_MLMODEL_BYTES} bytes"
            )
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise invalid_value("MLmodel", str(path), "is not UTF-8 text") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            where = getattr(exc, "problem_mark", None)
            at = f" at line {where.line + 1}" if where is not None else ""
            raise invalid_value("MLmodel", str(path), f"is not valid YAML{at}: {_problem(exc)}") from None
        except RecursionError:
            raise invalid_value("MLmodel", str(path), "is too deeply nested") from None
        return cls.from_dict(data)


def _problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    return str(problem) if problem else type(exc).__name__


__all__ = ["MAX_MLMODEL_BYTES", "MLMODEL_FILE", "PYFUNC", "TIME_FORMAT", "MLModel", "check_relative_path"]
