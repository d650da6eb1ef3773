"""The fluent API's state: the tracking URI, the current experiment and the active runs.

The tracking URI and the current experiment are process-wide (``set_tracking_uri``, ``set_experiment``); the
stack of active runs is per thread. A run started here records the system tags of :mod:`context`. At
interpreter exit queued metrics are flushed, then runs still active are ended as FINISHED.
:mod:`wayline.client.fluent` builds the logging functions on top of this module.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from wayline.client import context
from wayline.client.arguments import string_map
from wayline.client.batcher import MetricBatcher
from wayline.client.client import WaylineClient
from wayline.entities import (
    Experiment,
    LifecycleStage,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunStatus,
    RunTag,
)
from wayline.errors import (
    InvalidParameterValue,
    InvalidState,
    ResourceAlreadyExists,
    WaylineError,
    invalid_value,
)
from wayline.services import validation as v
from wayline.store.resolve import locate, tracking_uri_from_env

log = logging.getLogger(__name__)

DEFAULT_EXPERIMENT_ID = "0"
EXPERIMENT_NAME_ENV = ("WAYLINE_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_NAME")
EXPERIMENT_ID_ENV = ("WAYLINE_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID")


class _State:
    """Process-wide fluent state; guarded by ``lock``."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tracking_uri: str | None = None
        self.client: WaylineClient | None = None
        self.batcher: MetricBatcher | None = None
        self.experiment_id: str | None = None
        self.last_run_id: str | None = None
        self.active: dict[int, ActiveRun] = {}  # every thread's active runs, for exit


state = _State()
local = threading.local()


def current_stack() -> list[ActiveRun]:
    """This thread's active runs, innermost last."""
    stack: list[ActiveRun] | None = getattr(local, "stack", None)
    if stack is None:
        stack = local.stack = []
    return stack


class ActiveRun:
    """The run ``start_run`` made active; a context manager that ends it (FAILED when the block raised)."""

    def __init__(self, run: Run, stack: list[ActiveRun]) -> None:
        self._run = run
        self._stack = stack
        self.run_id = run.info.run_id

    @property
    def info(self) -> RunInfo:
        return self._run.info

    @property
    def data(self) -> RunData:
        """The run's data when it was started (use ``get_run`` for what was logged since)."""
        return self._run.data

    @property
    def inputs(self) -> RunInputs:
        return self._run.inputs

    def __repr__(self) -> str:
        return f"<ActiveRun run_id={self.run_id!r}>"

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        status = RunStatus.FINISHED if exc_type is None else RunStatus.FAILED
        error: WaylineError | None = None
        while self in self._stack:  # nested runs still active end with their parent
            try:
                _finish(self._stack[-1], status)
            except WaylineError as caught:
                error = error or caught
        if error is not None:
            if exc_type is None:
                raise error
            log.error("While ending run %s after an error: %s", self.run_id, error)


# -- tracking URI and client ---------------------------------------------------------------------------------
def set_tracking_uri(uri: str | os.PathLike[str]) -> None:
    """Where runs are recorded from now on (a folder, ``sqlite:///``, ``postgresql://``); queued metrics are
    flushed to the previous store first."""
    if isinstance(uri, os.PathLike):
        uri = os.fspath(uri)
    if not isinstance(uri, str) or not uri.strip():
        raise invalid_value("uri", uri, "must be a non-empty tracking URI")
    locate(uri)
    with state.lock:
        if uri != state.tracking_uri:
            _close_client()
            state.tracking_uri = uri


def get_tracking_uri() -> str:
    """The URI set by ``set_tracking_uri``, else ``WAYLINE_TRACKING_URI``/``MLFLOW_TRACKING_URI``, else
    ``./wayline-data``."""
    return state.tracking_uri or tracking_uri_from_env()


def get_client() -> WaylineClient:
    """The client for the current tracking URI (replaced, and the old one closed, when the URI changes)."""
    uri = get_tracking_uri()
    client = state.client
    if client is not None and client.tracking_uri == uri:
        return client
    with state.lock:
        if state.client is None or state.client.tracking_uri != uri:
            _close_client()
            state.client = WaylineClient(uri)
            state.batcher = MetricBatcher(state.client.service)
        return state.client


def get_batcher() -> MetricBatcher:
    """The metric batcher of the current client."""
    batcher = state.batcher
    if batcher is None:
        get_client()
        batcher = state.batcher
        assert batcher is not None
    return batcher


def _close_client() -> None:
    """Flush and close the batcher and the client (errors are logged: nobody is left to raise them to)."""
    batcher, client = state.batcher, state.client
    state.batcher = state.client = None
    state.experiment_id = None
    try:
        if batcher is not None:
            batcher.close()
    except WaylineError as exc:
        log.error("%s", exc)
    finally:
        if client is not None:
            client.close()


# -- experiments ---------------------------------------------------------------------------------------------
def _check_active(experiment: Experiment) -> Experiment:
    if experiment.lifecycle_stage is LifecycleStage.DELETED:
        raise InvalidState(
            f"Experiment '{experiment.name}' (id {experiment.experiment_id}) is deleted. Restore it with "
            f"WaylineClient().restore_experiment('{experiment.experiment_id}'), or use another experiment"
        )
    return experiment


def set_experiment(
    name: str | None = None, experiment_id: str | None = None, *, experiment_name: str | None = None
) -> Experiment:
    """Make an experiment current, by name (created when missing) or by id; a deleted one is an error.

    ``experiment_name`` is MLflow's spelling of ``name``.
    """
    if experiment_name is not None:
        if name is not None and name != experiment_name:
            raise invalid_value(
                "experiment_name", experiment_name, "give either name or experiment_name, not both"
            )
        name = experiment_name
    if (name is None) == (experiment_id is None):
        raise InvalidParameterValue("set_experiment needs exactly one of 'name' and 'experiment_id'")
    client = get_client()
    if experiment_id is not None:
        experiment = _check_active(client.get_experiment(experiment_id))
    else:
        assert name is not None
        found = client.get_experiment_by_name(name)
        if found is None:
            with contextlib.suppress(ResourceAlreadyExists):  # made by another process meanwhile
                client.create_experiment(name)
            found = client.get_experiment_by_name(name)
            assert found is not None
        experiment = _check_active(found)
    with state.lock:
        state.experiment_id = experiment.experiment_id
    return experiment


def current_experiment_id() -> str:
    """The experiment new runs go to: ``set_experiment``'s, else ``WAYLINE_EXPERIMENT_ID``/``_NAME`` (or
    MLflow's), else the Default experiment (id 0)."""
    if state.experiment_id is not None:
        return state.experiment_id
    for env in EXPERIMENT_ID_ENV:
        if os.environ.get(env, "").strip():
            return set_experiment(experiment_id=os.environ[env].strip()).experiment_id
    for env in EXPERIMENT_NAME_ENV:
        if os.environ.get(env, "").strip():
            return set_experiment(os.environ[env].strip()).experiment_id
    return DEFAULT_EXPERIMENT_ID


# -- runs ----------------------------------------------------------------------------------------------------
def start_run(  # noqa: PLR0917 (MLflow's signature)
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
) -> ActiveRun:
    """Start a new run (or resume ``run_id``) and make it active in this thread.

    A second run while one is active needs ``nested=True``; it then records ``mlflow.parentRunId``. A new run
    records the system tags (see ``docs/tracking.md``) and the environment artifacts.
    """
    if not isinstance(nested, bool):
        raise invalid_value("nested", nested, "must be True or False")
    stack = current_stack()
    if stack and not nested:
        raise InvalidState(
            f"Run with id {stack[-1].run_id} is already active. To start a new run, first end the current "
            "run with wayline.end_run(). To start a nested run, call start_run with nested=True"
        )
    user_tags = string_map(tags, "tags")
    if description is not None:
        if not isinstance(description, str):
            raise invalid_value("description", description, "must be a string")
        user_tags[context.NOTE] = description
    if run_name is not None:
        v.validate_run_name(run_name)
    client = get_client()
    if run_id is not None:
        run = _resume(
            client, stack=stack, run_id=run_id, experiment_id=experiment_id, run_name=run_name, tags=user_tags
        )
    else:
        if experiment_id is not None:
            exp_id = _check_active(client.get_experiment(experiment_id)).experiment_id
        else:
            exp_id = current_experiment_id()
        all_tags = {**context.system_tags(), **user_tags}
        if stack:
            all_tags[context.PARENT_RUN_ID] = stack[-1].run_id
        run = client.create_run(exp_id, tags=all_tags, run_name=run_name)
        _write_environment(client, run.info.run_id)
    active = ActiveRun(run, stack)
    with state.lock:
        stack.append(active)
        state.active[id(active)] = active
        state.last_run_id = active.run_id
    return active


def _resume(
    client: WaylineClient,
    *,
    stack: list[ActiveRun],
    run_id: str,
    experiment_id: str | None,
    run_name: str | None,
    tags: dict[str, str],
) -> Run:
    if any(active.run_id == run_id for active in stack):
        raise InvalidState(f"Run with id {run_id} is already active")
    run = client.get_run(run_id)
    if run.info.lifecycle_stage is LifecycleStage.DELETED:
        raise InvalidState(f"Run '{run_id}' is deleted; restore it before resuming it")
    if experiment_id is not None and str(experiment_id) != run.info.experiment_id:
        raise invalid_value(
            "experiment_id", experiment_id, f"run '{run_id}' belongs to experiment {run.info.experiment_id}"
        )
    if tags:
        client.log_batch(run_id, tags=[RunTag(k, val) for k, val in tags.items()])
    client.update_run(run_id, status=RunStatus.RUNNING, name=run_name)
    return client.get_run(run_id)


def _write_environment(client: WaylineClient, run_id: str) -> None:
    files = context.environment_files()
    if not files:
        return
    try:
        repository = client.artifact_repository(run_id, for_writing=True)
        for path, text in files.items():
            repository.write_bytes(path, text.encode("utf-8"))
    except (WaylineError, OSError) as exc:  # the run is more important than its environment record
        log.warning("Could not record the environment of run %s: %s", run_id, exc)


def _finish(active: ActiveRun, status: RunStatus) -> None:
    """Flush metrics, end ``active`` (on top of its stack) and raise a flush failure after ending it."""
    flush_error: WaylineError | None = None
    batcher = state.batcher
    if batcher is not None:
        try:
            batcher.flush()
        except WaylineError as exc:
            flush_error = exc
    try:
        get_client().set_terminated(active.run_id, status)
    except WaylineError as exc:
        if flush_error is None:
            raise
        log.error("Could not end run %s: %s", active.run_id, exc)
    finally:
        with state.lock:
            if active in active._stack:
                active._stack.remove(active)
            state.active.pop(id(active), None)
            state.last_run_id = active.run_id
    if flush_error is not None:
        raise flush_error


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> None:
    """End this thread's active run (no-op without one), after flushing queued metrics."""
    parsed = RunStatus.parse(status)
    stack = current_stack()
    if stack:
        _finish(stack[-1], parsed)


def active_run() -> ActiveRun | None:
    """This thread's innermost active run."""
    stack = current_stack()
    return stack[-1] if stack else None


def last_active_run() -> Run | None:
    """The active run, else the last run ended in this process, fetched fresh; None if there was none."""
    stack = current_stack()
    run_id = stack[-1].run_id if stack else state.last_run_id
    return None if run_id is None else get_client().get_run(run_id)


def run_id_for_logging() -> str:
    """The active run's id; starts a run when there is none (as MLflow does)."""
    stack = current_stack()
    if stack:
        return stack[-1].run_id
    return start_run().run_id


def flush() -> None:
    """Wait until every queued metric point is stored; raise :class:`MetricLoggingError` for those that
    could not be."""
    batcher = state.batcher
    if batcher is not None:
        batcher.flush()


def shutdown(status: RunStatus = RunStatus.FINISHED) -> None:
    """Flush, end every thread's active runs with ``status`` (innermost first), then close the client.

    Runs at interpreter exit; errors are logged since nobody is left to raise them to.
    """
    with state.lock:
        actives = list(state.active.values())
    try:
        flush()
    except WaylineError as exc:
        log.error("%s", exc)
    for active in reversed(actives):
        try:
            _finish(active, status)
        except WaylineError as exc:
            log.error("Could not end run %s: %s", active.run_id, exc)
    with state.lock:
        _close_client()


def _reset() -> None:
    """Forget all fluent state (tests): end runs as KILLED, close the client, clear URI and experiment."""
    shutdown(RunStatus.KILLED)
    with state.lock:
        state.tracking_uri = None
        state.experiment_id = None
        state.last_run_id = None
        state.active.clear()
    local.stack = []


atexit.register(shutdown)
