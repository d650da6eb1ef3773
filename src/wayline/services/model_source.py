"""Model URIs and the rule for where a model version's files may live (``shared/SECURITY.md`` section 1).

A version's ``source`` is where clients, and this server's own routes, later read the model from, so a source
chosen by a client must never point at the server's filesystem, another host or another bucket. The rule has
two halves: :func:`checked_source_scheme` refuses every unclean spelling (whatever the scheme), and
:func:`inside_root` says whether a clean URI lies inside an artifact root. :class:`VersionSources` applies it:
a new version's source must be a ``runs:/`` URI of an existing run, a ``models:/`` URI of an existing logged
model or registered version, or lie inside one of the configured artifact roots or inside the artifact root of
the version's run or logged model.

Unclean, in any spelling (the text as given and after each round of percent-decoding): ``..`` segments (with
``/`` or ``\\``), ``;`` path parameters, ``?`` queries, ``#`` fragments, control characters, a ``runs:`` or
``models:`` URI nested inside another URI, surrounding whitespace, and text that still decodes after
:data:`~wayline.artifacts.path.MAX_PERCENT_DECODES` rounds.

Model URIs name registered versions (``models:/<name>/<version>``, ``models:/<name>/<stage>``,
``models:/<name>/latest``, ``models:/<name>@<alias>``) or MLflow 3 logged models (``models:/<model id>``);
:func:`parse_model_uri` reads them as MLflow does. :func:`parse_runs_uri` reads ``runs:/<run id>/<path>``.
"""

from __future__ import annotations

import json
import logging
import os
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from wayline.artifacts.path import MAX_PERCENT_DECODES, safe_relative_path, uri_scheme
from wayline.artifacts.resolve import join_artifact_uri, parse_model_uri
from wayline.entities import LoggedModel, Run
from wayline.entities.registry import ModelVersion
from wayline.errors import InvalidParameterValue, ResourceNotFound, WaylineError, invalid_value
from wayline.services.logged_models import validate_model_id
from wayline.services.registry_validation import validate_run_id
from wayline.services.tracking import TrackingService
from wayline.store.logged_model import LoggedModelStore

logger = logging.getLogger("wayline.registry")

#: Longest ``source`` accepted, in characters.
MAX_SOURCE_LENGTH = 8192
#: How many ``models:/name/version`` sources are followed to find a version's files.
MAX_SOURCE_HOPS = 16
#: The logged-model tag listing the registered versions made from the model (MLflow's, read by its UI).
MODEL_VERSIONS_TAG = "mlflow.modelVersions"
#: Schemes of the model URIs; never accepted nested inside another URI.
NESTED_SCHEMES = ("runs:", "models:")
_LOCAL = frozenset({"", "file"})
_BAD_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def parse_runs_uri(uri: str, *, field: str = "source") -> tuple[str, str]:
    """``runs:/<run id>/<path>`` as ``(run id, path)``; the path is a safe relative path (``""``: the run's
    whole artifact root)."""
    if uri_scheme(uri, field=field) != "runs":
        raise invalid_value(field, uri, "a run URI is 'runs:/<run_id>/<path>'")
    rest = uri[len("runs:") :]
    if not rest.startswith("/") or rest.startswith("//"):
        raise invalid_value(field, uri, "a run URI is 'runs:/<run_id>/<path>' (no host)")
    run_id, _, path = rest[1:].partition("/")
    if not run_id:
        raise invalid_value(field, uri, "a run URI names a run: 'runs:/<run_id>/<path>'")
    return run_id, safe_relative_path(path, field=field)


def checked_source_scheme(source: object, *, field: str = "source") -> str:
    """The lower-case scheme of a clean ``source`` (``""`` for a plain path); InvalidParameterValue naming
    ``field`` for anything unclean (see the module docstring)."""
    if not isinstance(source, str):
        raise invalid_value(field, source, "must be a string")
    if len(source) > MAX_SOURCE_LENGTH:
        raise invalid_value(field, source, f"longer than the limit of {MAX_SOURCE_LENGTH} characters")
    scheme = uri_scheme(source, field=field)
    spelling = source
    for _ in range(MAX_PERCENT_DECODES + 1):
        _check_spelling(spelling, source, scheme, field)
        decoded = unquote(spelling)
        if decoded == spelling:
            return scheme
        spelling = decoded
    raise invalid_value(field, source, "too many levels of percent-encoding")


def _check_spelling(text: str, original: str, scheme: str, field: str) -> None:
    for ch in text:
        if ch in ";?#":
            raise invalid_value(field, original, f"must not contain {ch!r} (path parameter, query, fragment)")
        if unicodedata.category(ch) in _BAD_CATEGORIES:
            raise invalid_value(field, original, "must not contain NUL or control characters")
    for form in (text, unicodedata.normalize("NFKC", text)):
        if ".." in form.replace("\\", "/").split("/"):
            raise invalid_value(field, original, "must not contain '..' segments")
        rest = form[len(scheme) + 1 :] if scheme else form
        if any(nested in rest.lower() for nested in NESTED_SCHEMES):
            raise invalid_value(field, original, "must not nest a runs:/ or models:/ URI inside another URI")


def inside_root(uri: str, root: str) -> bool:
    """Whether the clean ``uri`` is ``root`` or below it: real absolute paths for local stores (a plain path
    or a ``file:`` URI without a host), otherwise the same scheme and host and a prefix of decoded segments.
    A root without a path (``mlflow-artifacts:/``) holds every path of its scheme and host."""
    try:
        scheme, root_scheme = uri_scheme(uri), uri_scheme(root, field="artifact_root")
    except InvalidParameterValue:
        return False
    if scheme in _LOCAL or root_scheme in _LOCAL:
        path, root_path = _local_path(uri, scheme), _local_path(root, root_scheme, root=True)
        if path is None or root_path is None:
            return False
        real, real_root = os.path.realpath(path), os.path.realpath(root_path)
        return real == real_root or os.path.commonpath([real, real_root]) == real_root
    if scheme != root_scheme:
        return False
    parts, root_parts = urlsplit(uri), urlsplit(root)
    if parts.netloc.lower() != root_parts.netloc.lower():
        return False
    segments, root_segments = _segments(parts.path), _segments(root_parts.path)
    return segments[: len(root_segments)] == root_segments


def _local_path(uri: str, scheme: str, *, root: bool = False) -> str | None:
    """The absolute local path a plain path or a host-less ``file:`` URI names; None for anything else. A
    source must be absolute; a root may be relative to the working directory (as the server's settings)."""
    if scheme == "":
        path = uri
    elif scheme == "file":
        parts = urlsplit(uri)
        if parts.netloc not in ("", "localhost"):
            return None
        path = unquote(parts.path)
    else:
        return None
    if path.startswith("//"):
        return None
    if not os.path.isabs(path):
        return os.path.abspath(path) if root and path else None
    return path


def _segments(path: str) -> list[str]:
    return [unquote(s) for s in path.split("/") if s and s != "."]


@dataclass(frozen=True)
class Lineage:
    """A checked source and the run and logged model a new version comes from ("" when none)."""

    source: str
    run_id: str = ""
    model_id: str = ""


class VersionSources:
    """The source rule applied, with the lookups it needs: runs and logged models through ``tracking``
    (sources naming them are refused without it), registered versions through ``resolve`` (a ``models:/``
    URI to its version), and the ``artifact_roots`` that sources may point into."""

    def __init__(
        self,
        tracking: TrackingService | None,
        artifact_roots: Sequence[str],
        resolve: Callable[[str], ModelVersion],
    ) -> None:
        self.tracking = tracking
        self.artifact_roots = tuple(artifact_roots)
        self.resolve = resolve

    def lineage(self, source: str, run_id: str, model_id: str) -> Lineage:
        """The source to store and the version's run and logged model; InvalidParameterValue naming the
        field when the source is refused or a run or logged model it needs does not exist."""
        scheme = checked_source_scheme(source)
        if scheme == "runs":
            source_run, _path = parse_runs_uri(source)
            if run_id and run_id != source_run:
                raise invalid_value("source", source, f"names run {source_run}, but run_id is {run_id}")
            self._run(validate_run_id(source_run, field="source"), field="source")
            return Lineage(source, source_run, model_id and self._logged_model(model_id).model_id)
        if scheme == "models":
            return self._model_lineage(source, run_id, model_id)
        roots = list(self.artifact_roots)
        if run_id:
            roots.append(self._run(run_id).info.artifact_uri)
        if model_id:
            model = self._logged_model(model_id)
            roots.append(model.artifact_location)
            run_id = run_id or (model.source_run_id or "")
        if not any(inside_root(source, root) for root in roots if root):
            raise invalid_value(
                "source",
                source,
                "must be a runs:/ or models:/ URI, or lie inside this server's artifact stores or the "
                "artifact root of the given run_id or model_id; other paths, hosts and buckets are refused",
            )
        return Lineage(source, run_id, model_id)

    def _model_lineage(self, source: str, run_id: str, model_id: str) -> Lineage:
        parsed = parse_model_uri(source, field="source")
        if parsed.path:
            raise invalid_value("source", source, "a models:/ source names a model, not a file inside it")
        if parsed.model_id is not None:
            found = validate_model_id(parsed.model_id, field="source")
            if model_id and model_id != found:
                raise invalid_value(
                    "source", source, f"names logged model {found}, but model_id is {model_id}"
                )
            model = self._logged_model(found, field="source")
            if run_id:
                self._run(run_id)
            return Lineage(source, run_id or (model.source_run_id or ""), found)
        target = self.resolve(source)
        if (run_id and run_id != target.run_id) or (model_id and model_id != target.model_id):
            raise invalid_value(
                "source", source, "run_id and model_id must be those of the version the source names"
            )
        return Lineage(f"models:/{target.name}/{target.version}", target.run_id, target.model_id)

    def _run(self, run_id: str, *, field: str = "run_id") -> Run:
        if self.tracking is None:
            raise invalid_value(field, run_id, "this registry has no tracking store to find the run in")
        try:
            return self.tracking.get_run(run_id)
        except ResourceNotFound:
            raise invalid_value(field, run_id, "no run with this id exists") from None

    def _logged_models(self) -> LoggedModelStore | None:
        store = None if self.tracking is None else self.tracking.store
        return store if isinstance(store, LoggedModelStore) else None

    def _logged_model(self, model_id: str, *, field: str = "model_id") -> LoggedModel:
        store = self._logged_models()
        if store is None:
            raise invalid_value(field, model_id, "this registry has no tracking store with logged models")
        try:
            return store.get_logged_model(model_id)
        except ResourceNotFound:
            raise invalid_value(field, model_id, "no logged model with this id exists") from None

    def link_logged_model(self, model_id: str, version: ModelVersion) -> None:
        """Add the version to the logged model's ``mlflow.modelVersions`` tag, as MLflow's server does."""
        store = self._logged_models()
        if store is None:
            return
        entry = {"name": version.name, "version": version.version}
        try:
            listed = json.loads(store.get_logged_model(model_id).tags.get(MODEL_VERSIONS_TAG) or "[]")
            if not isinstance(listed, list):
                listed = []
            if entry not in listed:
                store.set_logged_model_tags(model_id, {MODEL_VERSIONS_TAG: json.dumps([*listed, entry])})
        except (WaylineError, ValueError) as exc:
            logger.warning("could not list version %s on logged model %s: %s", version.version, model_id, exc)

    def download_uri(self, source: str, *, hops: int = 0) -> str:
        """Where a stored source's files can be read: a ``runs:/`` URI resolved to the run's artifact URI,
        ``models:/<id>`` to the logged model's artifact location, ``models:/<name>/<version>`` to that
        version's download URI; any other source is its own download URI."""
        try:
            scheme = uri_scheme(source, field="source")
        except InvalidParameterValue:
            return source
        if scheme == "runs" and self.tracking is not None:
            run_id, path = parse_runs_uri(source)
            return join_artifact_uri(self.tracking.get_run(run_id).info.artifact_uri, path)
        if scheme == "models":
            parsed = parse_model_uri(source, field="source")
            if parsed.model_id is not None:
                store = self._logged_models()
                return store.get_logged_model(parsed.model_id).artifact_location if store else source
            if hops < MAX_SOURCE_HOPS:
                return self.download_uri(self.resolve(source).source, hops=hops + 1)
        return source


__all__ = [
    "MAX_SOURCE_HOPS",
    "MAX_SOURCE_LENGTH",
    "MODEL_VERSIONS_TAG",
    "NESTED_SCHEMES",
    "Lineage",
    "VersionSources",
    "checked_source_scheme",
    "inside_root",
    "parse_runs_uri",
]
