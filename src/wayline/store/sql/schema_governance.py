"""The governance tables, on the one ``metadata`` of :mod:`wayline.store.sql.schema` (migration 0005 mirrors
them; ``schema.py`` imports this module last so that they are part of it).

* ``model_version_comments``: one row per comment on a model version; deleted with the version. Listed per
  version oldest first, by ``(model_key, version, comment_id)``.
* ``transition_requests``: one row per request to move a version to a stage or point an alias at it, with its
  decision; deleted with the model (the history keeps what happened). Listed per model, per version or per
  status, oldest first.
"""

from __future__ import annotations

import sqlalchemy as sa

from wayline.store.sql.schema import bytewise_text, metadata

model_version_comments = sa.Table(
    "model_version_comments",
    metadata,
    sa.Column("comment_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_key", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("author", bytewise_text(256), nullable=False),
    sa.Column("text", bytewise_text(), nullable=False),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_updated_time", sa.BigInteger, nullable=False),
    sa.ForeignKeyConstraint(
        ["model_key", "version"],
        ["model_versions.model_key", "model_versions.version"],
        ondelete="CASCADE",
        name="fk_model_version_comments_model_version",
    ),
    sa.Index("ix_model_version_comments_version", "model_key", "version", "comment_id"),
    sqlite_autoincrement=True,
)

transition_requests = sa.Table(
    "transition_requests",
    metadata,
    sa.Column("request_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "model_key",
        sa.Integer,
        sa.ForeignKey(
            "registered_models.model_key", ondelete="CASCADE", name="fk_transition_requests_registered_model"
        ),
        nullable=False,
    ),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("kind", bytewise_text(20), nullable=False),
    sa.Column("target", bytewise_text(256), nullable=False),
    sa.Column("archive_existing_versions", sa.Boolean, nullable=False),
    sa.Column("requested_by", bytewise_text(256), nullable=False),
    sa.Column("comment", bytewise_text(), nullable=False),
    sa.Column("status", bytewise_text(20), nullable=False),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("decided_by", bytewise_text(256), nullable=False),
    sa.Column("decision_comment", bytewise_text(), nullable=False),
    sa.Column("decision_time", sa.BigInteger, nullable=False),
    sa.Index("ix_transition_requests_version", "model_key", "version", "request_id"),
    sa.Index("ix_transition_requests_status", "status", "request_id"),
    sqlite_autoincrement=True,
)


__all__ = ["model_version_comments", "transition_requests"]
