"""``SqlGovernanceStore``: the :class:`~wayline.store.governance.GovernanceStore` on SQLite and PostgreSQL.

Each method is one transaction. The work is done by ``model_comments``, ``transition_requests`` and
``registry_state``, which use the registry's own modules (``model_versions``, ``model_aliases``,
``registry_history``) so that an approval's change, the request's decision and their history events are
committed together. Governance lives in the registry's database and can share its engine.
"""

from __future__ import annotations

import sqlalchemy as sa

from wayline.entities.governance import (
    ModelComment,
    RegistryState,
    RequestKind,
    RequestStatus,
    TransitionRequest,
)
from wayline.store.governance import LIST_MAX
from wayline.store.sql import model_comments, registered_models, registry_history, registry_state
from wayline.store.sql import transition_requests as requests
from wayline.store.sql.engine import transaction
from wayline.store.sql.shared_engine import SharedEngineStore


class SqlGovernanceStore(SharedEngineStore):
    """Comments, transition requests and past registry states in a SQL database.

    Give either ``db_uri`` (the store makes its own engine, checks the schema, and :meth:`close` disposes of
    it) or ``engine`` (shared, typically the tracking store's; :meth:`close` leaves it open).
    """

    def __init__(self, db_uri: str | None = None, *, engine: sa.Engine | None = None) -> None:
        super().__init__(db_uri, engine=engine)

    # -- comments --------------------------------------------------------------------------------------------
    def add_comment(self, name: str, version: int, *, author: str, text: str) -> ModelComment:
        with transaction(self._engine, write=True) as conn:
            return model_comments.add(conn, name, version, author=author, text=text)

    def get_comment(self, comment_id: int) -> ModelComment:
        with transaction(self._engine) as conn:
            return model_comments.get(conn, comment_id)

    def update_comment(self, comment_id: int, *, text: str) -> ModelComment:
        with transaction(self._engine, write=True) as conn:
            return model_comments.update(conn, comment_id, text=text)

    def delete_comment(self, comment_id: int) -> None:
        with transaction(self._engine, write=True) as conn:
            model_comments.delete(conn, comment_id)

    def list_comments(self, name: str, version: int) -> list[ModelComment]:
        with transaction(self._engine) as conn:
            return model_comments.list_for(conn, name, version)

    # -- transition requests ---------------------------------------------------------------------------------
    def create_request(
        self,
        name: str,
        version: int,
        *,
        kind: RequestKind,
        target: str,
        archive_existing_versions: bool,
        requested_by: str,
        comment: str,
    ) -> TransitionRequest:
        with transaction(self._engine, write=True) as conn:
            return requests.create(
                conn,
                name,
                version,
                kind=kind,
                target=target,
                archive_existing_versions=archive_existing_versions,
                requested_by=requested_by,
                comment=comment,
            )

    def get_request(self, request_id: int) -> TransitionRequest:
        with transaction(self._engine) as conn:
            return requests.get(conn, request_id)

    def list_requests(
        self,
        *,
        name: str | None = None,
        version: int | None = None,
        status: RequestStatus | None = None,
        max_results: int = LIST_MAX,
    ) -> list[TransitionRequest]:
        with transaction(self._engine) as conn:
            return requests.list_requests(
                conn, name=name, version=version, status=status, max_results=max_results
            )

    def decide_request(
        self, request_id: int, status: RequestStatus, *, decided_by: str, comment: str
    ) -> TransitionRequest:
        with transaction(self._engine, write=True) as conn:
            return requests.decide(conn, request_id, status, decided_by=decided_by, comment=comment)

    # -- history ---------------------------------------------------------------------------------------------
    def registry_state(self, name: str, timestamp: int) -> RegistryState:
        with transaction(self._engine) as conn:
            key = registered_models.key_of(conn, name)
            events = registry_history.history(conn, key, name, version=None, until=timestamp)
        return registry_state.replay(name, timestamp, events)


__all__ = ["SqlGovernanceStore"]
