"""The tracking and model-registry tables, as SQLAlchemy Core metadata (the migrations in
``migrations/versions`` mirror it).

Two hot paths shape it (see ``docs/storage.md``):

* appending metric points: ``metric_blocks`` holds a batch's points of one key as one row of packed arrays
  (a history is read by decoding a key's blocks), and ``latest_metrics`` keeps one row per ``(run_id,
  key)``, maintained on ingest;
* searching runs by latest metric, param and tag values: ``(experiment_id, key, is_nan, value)`` on
  ``latest_metrics`` and ``(experiment_id, key, value)`` on ``params`` and ``tags`` (filters, and ordering
  by one key by walking them in order within an experiment; each row carries its run's experiment, which
  never changes), and ``(experiment_id, lifecycle_stage, start_time)`` on ``runs``.

Text that is compared or sorted uses byte order on both backends (SQLite's BINARY, PostgreSQL's "C"
collation), so ``=``, ``<``, ``LIKE`` and ORDER BY agree between SQLite and PostgreSQL. NaN is stored as
``is_nan = true`` with ``value = 0`` (SQLite turns NaN into NULL); infinities are stored as they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

#: On PostgreSQL, the ``(key, value)`` indexes of params, tags and input tags index the first this many
#: characters of the value, ``substr(value, 1, PG_INDEXED_PREFIX)`` (a btree entry must fit in a third of a
#: page, and values may be 8000 characters long); search compares that prefix too (see ``search_sql``) and
#: orders by it first. PostgreSQL keeps statistics for index expressions, and the migration adds extended
#: statistics ``st_<table>_key_prefix`` (MCV on key and prefix, which metadata cannot express) so that
#: ``key = k AND prefix = v`` is estimated from the pair's frequency rather than the product of both.
PG_INDEXED_PREFIX = 200

metadata = sa.MetaData()


def bytewise_text(length: int | None = None) -> sa.types.TypeEngine[str]:
    """A string compared byte-wise: VARCHAR/TEXT, with the "C" collation on PostgreSQL."""
    if length is None:
        return sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")
    return sa.String(length).with_variant(postgresql.VARCHAR(length, collation="C"), "postgresql")


def value_prefix(value: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """The indexed prefix of a params/tags/input_tags value on PostgreSQL."""
    return sa.func.substr(value, 1, PG_INDEXED_PREFIX, type_=value.type)


def _key_value_indexes(table: str, *, run_id: bool = True, experiment: bool = False) -> list[sa.Index]:
    """``([experiment_id, ]key, value[, run_id])`` on SQLite; ``([experiment_id, ]key, substr(value, 1,
    PG_INDEXED_PREFIX)[, run_id])`` on PostgreSQL, where whole values would not fit in a btree entry."""
    tail = ["run_id"] if run_id else []
    head, name = (["experiment_id"], f"ix_{table}_experiment_key") if experiment else ([], f"ix_{table}_key")
    prefix = sa.text(f"substr(value, 1, {PG_INDEXED_PREFIX})")
    return [
        sa.Index(f"{name}_value", *head, "key", "value", *tail).ddl_if(dialect="sqlite"),
        sa.Index(f"{name}_prefix", *head, "key", prefix, *tail).ddl_if(dialect="postgresql"),
    ]


experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("experiment_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", bytewise_text(500), nullable=False),
    sa.Column("artifact_location", bytewise_text(), nullable=False),
    sa.Column("lifecycle_stage", bytewise_text(20), nullable=False),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_update_time", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("name", name="uq_experiments_name"),
    sa.Index("ix_experiments_creation_time", "creation_time"),
    sqlite_autoincrement=True,
)

experiment_tags = sa.Table(
    "experiment_tags",
    metadata,
    sa.Column(
        "experiment_id",
        sa.Integer,
        sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE", name="fk_experiment_tags_experiment"),
        primary_key=True,
    ),
    sa.Column("key", bytewise_text(250), primary_key=True),
    sa.Column("value", bytewise_text(), nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", bytewise_text(32), primary_key=True),
    sa.Column(
        "experiment_id",
        sa.Integer,
        sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE", name="fk_runs_experiment"),
        nullable=False,
    ),
    sa.Column("name", bytewise_text(250), nullable=False),
    sa.Column("user_id", bytewise_text(256), nullable=False),
    sa.Column("status", bytewise_text(20), nullable=False),
    sa.Column("start_time", sa.BigInteger, nullable=False),
    sa.Column("end_time", sa.BigInteger, nullable=True),
    sa.Column("lifecycle_stage", bytewise_text(20), nullable=False),
    sa.Column("artifact_uri", bytewise_text(), nullable=False),
    sa.Column("deleted_time", sa.BigInteger, nullable=True),
    # The run's params and tags as key-value documents, the REST API's lists of ``{"key", "value"}`` sorted by
    # key, kept by triggers on ``params`` and ``tags`` (revisions 0010 and 0011): a page of runs is read and
    # sent without reading their rows. ``{}``, the default, reads as empty.
    sa.Column("params_json", sa.Text, nullable=False, server_default="{}"),
    sa.Column("tags_json", sa.Text, nullable=False, server_default="{}"),
    sa.Index("ix_runs_experiment_stage_start", "experiment_id", "lifecycle_stage", "start_time", "run_id"),
)


def _run_fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey("runs.run_id", ondelete="CASCADE", name=f"fk_{table}_run")


def _run_key_value_table(name: str) -> sa.Table:
    """A run's params or tags: one value per ``(run_id, key)``, searchable by ``(experiment_id, key, value)``
    (``experiment_id`` is the run's)."""
    return sa.Table(
        name,
        metadata,
        sa.Column("run_id", bytewise_text(32), _run_fk(name), primary_key=True),
        sa.Column("key", bytewise_text(250), primary_key=True),
        sa.Column("value", bytewise_text(), nullable=False),
        sa.Column("experiment_id", sa.Integer, nullable=False),
        *_key_value_indexes(name, experiment=True),
    )


params = _run_key_value_table("params")
tags = _run_key_value_table("tags")

#: Every logged point, in blocks: one row holds points of one metric of one run, as three packed arrays
#: (steps and timestamps as little-endian 64-bit integers, values as little-endian doubles, NaN included),
#: so that a batch of 1,000 points of two keys is two rows instead of 1,000 index entries (see
#: ``metric_blocks``).
#: ``first_step`` and ``last_step`` bound the block's steps (range reads skip other blocks); when ``ordered``
#: its points are in history order, ``(step, timestamp, NaN last, value)``, with no point twice, and
#: ``(last_step, last_timestamp, last_value)`` is its last point (``last_value`` NULL for NaN), which lets a
#: small write append to it and keep it ordered. A point identical to a stored one is dropped when a history
#: is read (as MLflow's primary key drops it on write). ``block`` orders a key's blocks as they were written.
#: The run's existence is checked by log_batch in the same transaction, so there is no foreign key check.
metric_blocks = sa.Table(
    "metric_blocks",
    metadata,
    sa.Column(
        "block",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("run_id", bytewise_text(32), nullable=False),
    sa.Column("key", bytewise_text(250), nullable=False),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("first_step", sa.BigInteger, nullable=False),
    sa.Column("last_step", sa.BigInteger, nullable=False),
    sa.Column("last_timestamp", sa.BigInteger, nullable=False),
    sa.Column("last_value", sa.Double, nullable=True),
    sa.Column("ordered", sa.Boolean, nullable=False),
    sa.Column("steps", sa.LargeBinary, nullable=False),
    sa.Column("timestamps", sa.LargeBinary, nullable=False),
    sa.Column("vals", sa.LargeBinary, nullable=False),
    sa.Index("ix_metric_blocks_run_key_block", "run_id", "key", "block"),
)

#: PostgreSQL would try to compress each array of a block above 2 KB (pglz): a batch of 1,000 points took
#: three times as long, and doubles hardly compress. EXTERNAL stores them out of line, uncompressed.
BLOCK_STORAGE = (
    "ALTER TABLE metric_blocks ALTER COLUMN steps SET STORAGE EXTERNAL, "
    "ALTER COLUMN timestamps SET STORAGE EXTERNAL, ALTER COLUMN vals SET STORAGE EXTERNAL"
)
sa.event.listen(
    metric_blocks,
    "after_create",
    sa.DDL(BLOCK_STORAGE).execute_if(dialect="postgresql"),  # type: ignore[no-untyped-call]
)

#: The latest point of each metric of each run: the greatest ``(step, timestamp, value)`` (MLflow's rule).
#: ``experiment_id`` is the run's: the value index starts with it, so that a search of one experiment walks
#: only that experiment's entries, however many other experiments share the key.
latest_metrics = sa.Table(
    "latest_metrics",
    metadata,
    sa.Column("run_id", bytewise_text(32), _run_fk("latest_metrics"), primary_key=True),
    sa.Column("key", bytewise_text(250), primary_key=True),
    sa.Column("value", sa.Double, nullable=False),
    sa.Column("is_nan", sa.Boolean, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("experiment_id", sa.Integer, nullable=False),
    sa.Index(
        "ix_latest_metrics_experiment_key_nan_value", "experiment_id", "key", "is_nan", "value", "run_id"
    ),
)

datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("dataset_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "experiment_id",
        sa.Integer,
        sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE", name="fk_datasets_experiment"),
        nullable=False,
    ),
    sa.Column("name", bytewise_text(500), nullable=False),
    sa.Column("digest", bytewise_text(36), nullable=False),
    sa.Column("source_type", bytewise_text(36), nullable=False),
    sa.Column("source", bytewise_text(), nullable=False),
    sa.Column("schema", bytewise_text(), nullable=True),
    sa.Column("profile", bytewise_text(), nullable=True),
    sa.UniqueConstraint("experiment_id", "name", "digest", name="uq_datasets_experiment_name_digest"),
)

inputs = sa.Table(
    "inputs",
    metadata,
    sa.Column("run_id", bytewise_text(32), _run_fk("inputs"), primary_key=True),
    sa.Column(
        "dataset_id",
        sa.Integer,
        sa.ForeignKey("datasets.dataset_id", ondelete="CASCADE", name="fk_inputs_dataset"),
        primary_key=True,
    ),
    sa.Index("ix_inputs_dataset_id", "dataset_id"),
)

input_tags = sa.Table(
    "input_tags",
    metadata,
    sa.Column("run_id", bytewise_text(32), primary_key=True),
    sa.Column("dataset_id", sa.Integer, primary_key=True),
    sa.Column("key", bytewise_text(255), primary_key=True),
    sa.Column("value", bytewise_text(500), nullable=False),
    sa.ForeignKeyConstraint(
        ["run_id", "dataset_id"],
        ["inputs.run_id", "inputs.dataset_id"],
        ondelete="CASCADE",
        name="fk_input_tags_input",
    ),
    *_key_value_indexes("input_tags", run_id=False),
)


# -- logged models (MLflow 3) -------------------------------------------------------------------------------
def _model_fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey("logged_models.model_id", ondelete="CASCADE", name=f"fk_{table}_model")


#: Logged models: soft-deleted like runs; listed newest first per experiment, looked up by name (how
#: ``runs:/<run_id>/<name>`` URIs resolve) and by source run.
logged_models = sa.Table(
    "logged_models",
    metadata,
    sa.Column("model_id", bytewise_text(64), primary_key=True),
    sa.Column(
        "experiment_id",
        sa.Integer,
        sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE", name="fk_logged_models_experiment"),
        nullable=False,
    ),
    sa.Column("name", bytewise_text(500), nullable=False),
    sa.Column("artifact_location", bytewise_text(), nullable=False),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_updated_time", sa.BigInteger, nullable=False),
    sa.Column("status", bytewise_text(20), nullable=False),
    sa.Column("status_message", bytewise_text(), nullable=True),
    sa.Column("lifecycle_stage", bytewise_text(20), nullable=False),
    sa.Column("model_type", bytewise_text(500), nullable=True),
    sa.Column("source_run_id", bytewise_text(32), nullable=True),
    sa.Index(
        "ix_logged_models_experiment_stage_created",
        "experiment_id",
        "lifecycle_stage",
        "creation_time",
        "model_id",
    ),
    sa.Index("ix_logged_models_experiment_name", "experiment_id", "name"),
    sa.Index("ix_logged_models_source_run", "source_run_id"),
)


def _model_key_value_table(name: str) -> sa.Table:
    """A logged model's params or tags: one value per ``(model_id, key)``."""
    return sa.Table(
        name,
        metadata,
        sa.Column("model_id", bytewise_text(64), _model_fk(name), primary_key=True),
        sa.Column("key", bytewise_text(250), primary_key=True),
        sa.Column("value", bytewise_text(), nullable=False),
        sa.Index(f"ix_{name}_key_model", "key", "model_id"),
    )


logged_model_params = _model_key_value_table("logged_model_params")
logged_model_tags = _model_key_value_table("logged_model_tags")

#: Metric points of logged models, each logged by a run, optionally on a dataset ('' when none).
logged_model_metrics = sa.Table(
    "logged_model_metrics",
    metadata,
    sa.Column("model_id", bytewise_text(64), _model_fk("logged_model_metrics"), primary_key=True),
    sa.Column("key", bytewise_text(250), primary_key=True),
    sa.Column("step", sa.BigInteger, primary_key=True),
    sa.Column("timestamp", sa.BigInteger, primary_key=True),
    sa.Column("run_id", bytewise_text(32), _run_fk("logged_model_metrics"), primary_key=True),
    sa.Column("dataset_name", bytewise_text(500), primary_key=True),
    sa.Column("dataset_digest", bytewise_text(36), primary_key=True),
    sa.Column("value", sa.Double, nullable=False),
    sa.Column("is_nan", sa.Boolean, nullable=False),
    sa.Index("ix_logged_model_metrics_key_model", "key", "model_id"),
)

#: Models a run produced (at a step) and models a run used.
run_model_outputs = sa.Table(
    "run_model_outputs",
    metadata,
    sa.Column("run_id", bytewise_text(32), _run_fk("run_model_outputs"), primary_key=True),
    sa.Column("model_id", bytewise_text(64), _model_fk("run_model_outputs"), primary_key=True),
    sa.Column("step", sa.BigInteger, primary_key=True),
    sa.Index("ix_run_model_outputs_model_id", "model_id"),
)

run_model_inputs = sa.Table(
    "run_model_inputs",
    metadata,
    sa.Column("run_id", bytewise_text(32), _run_fk("run_model_inputs"), primary_key=True),
    sa.Column("model_id", bytewise_text(64), _model_fk("run_model_inputs"), primary_key=True),
    sa.Index("ix_run_model_inputs_model_id", "model_id"),
)


# -- model registry ------------------------------------------------------------------------------------------
def registry_key_value_indexes(table: str, owner: list[str]) -> list[sa.Index]:
    """``(key, value, *owner)`` on SQLite; ``(key, substr(value, 1, PG_INDEXED_PREFIX), *owner)`` on
    PostgreSQL (tag values may be 5000 characters long), as for runs: ``search_sql.key_condition`` compares
    that prefix."""
    prefix = sa.text(f"substr(value, 1, {PG_INDEXED_PREFIX})")
    return [
        sa.Index(f"ix_{table}_key_value", "key", "value", *owner).ddl_if(dialect="sqlite"),
        sa.Index(f"ix_{table}_key_prefix", "key", prefix, *owner).ddl_if(dialect="postgresql"),
    ]


def _registered_model_fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey(
        "registered_models.model_key", ondelete="CASCADE", name=f"fk_{table}_registered_model"
    )


def _model_version_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["model_key", "version"],
        ["model_versions.model_key", "model_versions.version"],
        ondelete="CASCADE",
        name=f"fk_{table}_model_version",
    )


#: Registered models. ``model_key`` is a surrogate key that every other registry table refers to, so that a
#: rename is one UPDATE of ``name``; ``last_version`` is the largest version number ever allocated (versions
#: are numbered from it, and numbers are never reused after a delete).
registered_models = sa.Table(
    "registered_models",
    metadata,
    sa.Column("model_key", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", bytewise_text(256), nullable=False),
    sa.Column("description", bytewise_text(), nullable=False),
    sa.Column("owner", bytewise_text(256), nullable=False),
    sa.Column("protected", sa.Boolean, nullable=False),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_updated_time", sa.BigInteger, nullable=False),
    sa.Column("last_version", sa.Integer, nullable=False),
    sa.UniqueConstraint("name", name="uq_registered_models_name"),
    sa.Index("ix_registered_models_creation_time", "creation_time", "name"),
    sa.Index("ix_registered_models_last_updated_time", "last_updated_time", "name"),
    sqlite_autoincrement=True,
)

registered_model_tags = sa.Table(
    "registered_model_tags",
    metadata,
    sa.Column("model_key", sa.Integer, _registered_model_fk("registered_model_tags"), primary_key=True),
    sa.Column("key", bytewise_text(250), primary_key=True),
    sa.Column("value", bytewise_text(5000), nullable=False),
    *registry_key_value_indexes("registered_model_tags", ["model_key"]),
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column("model_key", sa.Integer, _registered_model_fk("model_versions"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_updated_time", sa.BigInteger, nullable=False),
    sa.Column("current_stage", bytewise_text(20), nullable=False),
    sa.Column("description", bytewise_text(), nullable=False),
    sa.Column("user_id", bytewise_text(256), nullable=False),
    sa.Column("source", bytewise_text(), nullable=False),
    sa.Column("run_id", bytewise_text(32), nullable=False),
    sa.Column("run_link", bytewise_text(), nullable=False),
    sa.Column("status", bytewise_text(20), nullable=False),
    sa.Column("status_message", bytewise_text(), nullable=False),
    sa.Column("model_id", bytewise_text(64), nullable=False),
    sa.Index("ix_model_versions_model_stage_version", "model_key", "current_stage", "version"),
    sa.Index("ix_model_versions_run_id", "run_id"),
    sa.Index("ix_model_versions_creation_time", "creation_time"),
    sa.Index("ix_model_versions_last_updated_time", "last_updated_time"),
)

model_version_tags = sa.Table(
    "model_version_tags",
    metadata,
    sa.Column("model_key", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("key", bytewise_text(250), primary_key=True),
    sa.Column("value", bytewise_text(5000), nullable=False),
    _model_version_fk("model_version_tags"),
    *registry_key_value_indexes("model_version_tags", ["model_key", "version"]),
)

#: An alias names one version of its model; deleting the version deletes the aliases that point at it.
registered_model_aliases = sa.Table(
    "registered_model_aliases",
    metadata,
    sa.Column("model_key", sa.Integer, primary_key=True),
    sa.Column("alias", bytewise_text(256), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    _model_version_fk("registered_model_aliases"),
    sa.Index("ix_registered_model_aliases_version", "model_key", "version"),
)

#: A registered model's history: stage and alias changes, versions created and deleted, renames (see
#: ``registry_history``). Rows refer to the model by key, so they follow a rename; ``version`` is 0 for
#: model-level events and is not a foreign key (the history of a deleted version stays).
registry_events = sa.Table(
    "registry_events",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_key", sa.Integer, _registered_model_fk("registry_events"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("kind", bytewise_text(64), nullable=False),
    sa.Column("actor", bytewise_text(256), nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("from_value", bytewise_text(), nullable=False),
    sa.Column("to_value", bytewise_text(), nullable=False),
    sa.Column("comment", bytewise_text(), nullable=False),
    sa.Index("ix_registry_events_model_event", "model_key", "event_id"),
    sa.Index("ix_registry_events_model_version_event", "model_key", "version", "event_id"),
    sqlite_autoincrement=True,
)


__all__ = [
    "BLOCK_STORAGE",
    "PG_INDEXED_PREFIX",
    "bytewise_text",
    "datasets",
    "experiment_tags",
    "experiments",
    "input_tags",
    "inputs",
    "latest_metrics",
    "logged_model_metrics",
    "logged_model_params",
    "logged_model_tags",
    "logged_models",
    "metadata",
    "metric_blocks",
    "model_version_tags",
    "model_versions",
    "params",
    "registered_model_aliases",
    "registered_model_tags",
    "registered_models",
    "registry_events",
    "registry_key_value_indexes",
    "run_model_inputs",
    "run_model_outputs",
    "runs",
    "tags",
    "value_prefix",
]

# The webhook and governance tables join metadata.
from wayline.store.sql import schema_governance, schema_webhooks  # noqa: E402, F401
