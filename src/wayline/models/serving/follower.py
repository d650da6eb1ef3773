"""The model being served, and following a registry alias (``models:/name@alias``) as it moves.

A ``models:/`` URI not pinned to a version number (an alias, a stage, ``latest``) is *followed*: every
poll interval the registry is asked which version it names; when that changes, the new version is
downloaded and loaded in a background thread and then swapped in with one assignment. Requests hold a
reference to the model they started with, so in-flight requests finish on the old one and none fails
during the switch. When the new version does not load, the old one keeps serving and the error is
logged (the next poll tries again).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from wayline.artifacts.resolve import is_model_uri, parse_model_uri
from wayline.client.client import WaylineClient
from wayline.entities.registry import ModelVersion
from wayline.errors import WaylineError
from wayline.models.pyfunc_model import PyFuncModel

logger = logging.getLogger(__name__)

#: Downloaded versions kept on disk (the serving one and the one before it).
KEEP_DOWNLOADS = 2


@dataclass(frozen=True)
class ServedModel:
    """A loaded model and where it came from."""

    model: PyFuncModel
    model_uri: str  # as given to the server
    source_uri: str  # what was loaded (models:/name/3 for a followed alias)
    registered_model: str | None = None
    version: int | None = None
    loaded_at_ms: int = 0
    serving_example: Any = None  # serving_input_example.json, decoded

    def describe(self) -> dict[str, Any]:
        """The ``/metadata`` document."""
        meta = self.model.metadata
        signature = meta.signature
        decoded: dict[str, Any] | None = None
        if signature is not None:
            decoded = {k: None if v is None else orjson.loads(v) for k, v in signature.to_dict().items()}
        return {
            "model_uri": self.model_uri,
            "source_uri": self.source_uri,
            "registered_model_name": self.registered_model,
            "model_version": None if self.version is None else str(self.version),
            "loaded_at": self.loaded_at_ms,
            "model_uuid": meta.model_uuid,
            "run_id": meta.run_id,
            "model_id": meta.model_id,
            "utc_time_created": meta.utc_time_created,
            "flavors": meta.flavors,
            "signature": decoded,
            "input_example": self.serving_example,
            "metadata": meta.metadata,
        }


def is_followed(model_uri: str) -> bool:
    """True for ``models:/`` URIs whose version can change: an alias, a stage or ``latest``."""
    if not is_model_uri(model_uri):
        return False
    parsed = parse_model_uri(model_uri)
    return parsed.model_id is None and parsed.version is None


def pinned_uri(model_uri: str, version: int) -> str:
    """``models:/name@alias[/path]`` as ``models:/name/<version>[/path]``."""
    parsed = parse_model_uri(model_uri)
    tail = f"/{parsed.path}" if parsed.path else ""
    return f"models:/{parsed.name}/{version}{tail}"


def _serving_example(model: PyFuncModel) -> Any:
    from wayline.models.input_example import load_serving_example

    try:
        text = load_serving_example(model.path, model.metadata)
    except (WaylineError, OSError, ValueError) as exc:
        logger.warning("Cannot read the model's serving input example: %s", exc)
        return None
    return None if text is None else orjson.loads(text)


class ModelLoader:
    """Loads versions of one model URI; downloads go to a private temporary directory it cleans up."""

    def __init__(self, model_uri: str, *, tracking_uri: str | None, trusted: bool | None) -> None:
        self.model_uri = model_uri
        self.tracking_uri = tracking_uri
        self.trusted = trusted
        self._client: WaylineClient | None = None
        self._root: Path | None = None
        self._downloads: list[Path] = []
        self._count = 0

    def _registry(self) -> WaylineClient:
        if self._client is None:
            self._client = WaylineClient(self.tracking_uri)
        return self._client

    def resolve(self) -> ModelVersion | None:
        """The registered version the URI names now (None for URIs outside the registry)."""
        if not is_model_uri(self.model_uri) or parse_model_uri(self.model_uri).model_id is not None:
            return None
        return self._registry().resolve_model_uri(self.model_uri)

    def _destination(self) -> Path:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="wayline-serve-"))
        self._count += 1
        target = self._root / f"model-{self._count}"
        self._downloads.append(target)
        return target

    def load(self, version: ModelVersion | None = None, *, local_dir: Path | None = None) -> ServedModel:
        """Load the URI (pinned to ``version`` when given), or the copy already at ``local_dir``."""
        from wayline.models.load import load_model

        if version is None:
            version = self.resolve()
        source = self.model_uri
        if version is not None and is_followed(self.model_uri):
            source = pinned_uri(self.model_uri, version.version)
        if local_dir is not None:
            model = load_model(str(local_dir), trusted=self.trusted)
        else:
            model = load_model(
                source, trusted=self.trusted, tracking_uri=self.tracking_uri, dst_path=self._destination()
            )
            self._prune()
        return ServedModel(
            model=model,
            model_uri=self.model_uri,
            source_uri=source,
            registered_model=None if version is None else version.name,
            version=None if version is None else version.version,
            loaded_at_ms=int(time.time() * 1000),
            serving_example=_serving_example(model),
        )

    def _prune(self) -> None:
        while len(self._downloads) > KEEP_DOWNLOADS:
            shutil.rmtree(self._downloads.pop(0), ignore_errors=True)

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None
            self._downloads = []


class ModelHolder:
    """The model being served; ``current`` is replaced in one assignment."""

    def __init__(self, served: ServedModel | None = None) -> None:
        self.current = served
        self.switches = 0
        self.failed_loads = 0


class AliasFollower:
    """Polls the registry every ``poll_interval_s`` and swaps in the version the URI names."""

    def __init__(
        self,
        holder: ModelHolder,
        loader: ModelLoader,
        *,
        poll_interval_s: float,
    ) -> None:
        self.holder = holder
        self.loader = loader
        self.poll_interval_s = poll_interval_s
        self._failed_version: int | None = None

    async def run(self) -> None:
        """Poll until cancelled."""
        while True:
            await asyncio.sleep(self.poll_interval_s)
            await self.check()

    async def check(self) -> bool:
        """One poll: True when a new version was swapped in."""
        current = self.holder.current
        try:
            version = await asyncio.to_thread(self.loader.resolve)
        except Exception as exc:  # the registry is unreachable: keep serving
            logger.warning("Cannot resolve %s: %s", self.loader.model_uri, exc)
            return False
        if version is None or (current is not None and current.version == version.version):
            return False
        logger.info("%s now names version %s: loading it", self.loader.model_uri, version.version)
        try:
            served = await asyncio.to_thread(self.loader.load, version)
        except Exception as exc:
            self.holder.failed_loads += 1
            if self._failed_version != version.version:
                logger.error(
                    "Cannot load version %s of %s; still serving version %s: %s",
                    version.version,
                    self.loader.model_uri,
                    None if current is None else current.version,
                    exc,
                    exc_info=not isinstance(exc, WaylineError),
                )
            self._failed_version = version.version
            return False
        self._failed_version = None
        self.holder.current = served
        self.holder.switches += 1
        logger.info("Now serving version %s of %s", served.version, self.loader.model_uri)
        return True


__all__ = [
    "AliasFollower",
    "ModelHolder",
    "ModelLoader",
    "ServedModel",
    "is_followed",
    "pinned_uri",
]
