"""A run row's params and tags documents become the lists the REST API sends: ``[{"key", "value"}, ...]``.

Revision 0010 kept ``runs.params_json`` and ``runs.tags_json`` as JSON objects in no key order. Every run
read then parsed both, sorted them by key, and built the API's list of ``{"key", "value"}`` objects from
them again. The documents are now that list, compact and sorted by key byte-wise (code point order, as
Python sorts), so a page of runs is sent with the documents copied in as they are (``orjson.Fragment``),
and a run's params and tags are decoded only if someone reads them (``RunData.of_documents``).

An empty document is ``[]``; a run row inserted without one holds the columns' default, ``{}``, which reads as
empty too (changing a column default on SQLite means rebuilding ``runs``).

The triggers of revision 0010 keep their names and events:

* PostgreSQL: the statement-level trigger functions get new bodies. Each touched run's document is patched
  with ``wayline_run_document(document, patch)``, where the patch holds the statement's rows as an object
  (a key whose value is JSON ``null`` is removed), starting from the document as the ``UPDATE`` finds it:
  two transactions writing one run still never lose each other's keys.
* SQLite: the row triggers rebuild the run's document from its rows in key order (the table's primary key
  order, ``(run_id, key)``); SQLite has one writer at a time.

The upgrade rebuilds every document; the downgrade goes back to revision 0010's objects and triggers by
running that revision's own downgrade and upgrade.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The tables whose rows each run carries as a document, and the column of ``runs`` holding it.
_DOCUMENTS = {"params": "params_json", "tags": "tags_json"}

#: PostgreSQL: ``document`` (a list, or anything else read as empty) with ``patch`` applied: its keys are
#: removed, then those whose value is not JSON null are added; the result sorted by key byte-wise, compact.
#: PL/pgSQL keeps the query's plan for the session; a SQL function's body is planned again at every call from
#: a trigger (0.29 against 0.13 ms a call).
_PG_DOCUMENT_FUNCTION = """
CREATE FUNCTION wayline_run_document(document text, patch jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  RETURN (
    SELECT '[' || COALESCE(string_agg(
             '{"key":' || to_json(x.k) || ',"value":' || to_json(x.v) || '}', ',' ORDER BY x.k COLLATE "C"
           ), '') || ']'
    FROM (
      SELECT e ->> 'key' AS k, e ->> 'value' AS v
      FROM json_array_elements(
        CASE WHEN left(document, 1) = '[' THEN CAST(document AS json) ELSE '[]' END
      ) AS e
      WHERE NOT patch ? (e ->> 'key')
      UNION ALL
      SELECT p.key, p.value FROM jsonb_each_text(patch) AS p WHERE p.value IS NOT NULL
    ) AS x
  );
END $$"""


def _pg_patch(column: str, rows: str, value: str) -> str:
    """Patch each run's ``column`` with the ``(run_id, key, value)`` rows of transition table ``rows``, each
    key set to ``value`` (``value`` to add, ``NULL`` to remove)."""
    return f"""
    UPDATE runs SET {column} = wayline_run_document(runs.{column}, d.patch)
    FROM (SELECT run_id, jsonb_object_agg(key, {value}) AS patch FROM {rows} GROUP BY run_id) AS d
    WHERE runs.run_id = d.run_id;"""


def _pg_function(name: str, body: dict[str, str]) -> str:
    """The trigger function ``name`` (revision 0010's), running ``body[table]`` for the table it fires on."""
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'params' THEN{body["params"]}
  ELSE{body["tags"]}
  END IF;
  RETURN NULL;
END $$"""


#: The events revision 0010's triggers fire on, as their names end (``params_documents_inserted``, ...).
_EVENTS = ("inserted", "updated", "deleted")
#: Revision 0010's trigger functions on PostgreSQL, by the event they serve.
_PG_FUNCTIONS = {event: f"wayline_run_documents_{event}" for event in _EVENTS}


def _sqlite_document(table: str, run_id: str) -> str:
    """SQLite: the document of run ``run_id`` (an SQL expression), rebuilt from its rows of ``table``."""
    return (
        "(SELECT json_group_array(json_object('key', key, 'value', value)) "
        f"FROM (SELECT key, value FROM {table} WHERE {table}.run_id = {run_id} ORDER BY key))"
    )


def _sqlite_triggers(table: str, column: str) -> list[str]:
    """Row triggers (revision 0010's names) rebuilding ``runs.column`` as ``table`` changes."""

    def rebuild(run_id: str, also: str = "") -> str:
        return f"UPDATE runs SET {column} = {_sqlite_document(table, run_id)} WHERE run_id = {run_id}{also};"

    return [
        f"CREATE TRIGGER {table}_documents_inserted AFTER INSERT ON {table} BEGIN\n"
        f"  {rebuild('NEW.run_id')}\nEND",
        f"CREATE TRIGGER {table}_documents_updated AFTER UPDATE ON {table} BEGIN\n"
        f"  {rebuild('NEW.run_id')}\n  {rebuild('OLD.run_id', ' AND OLD.run_id <> NEW.run_id')}\nEND",
        f"CREATE TRIGGER {table}_documents_deleted AFTER DELETE ON {table} BEGIN\n"
        f"  {rebuild('OLD.run_id')}\nEND",
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_DOCUMENT_FUNCTION)
        add = {table: _pg_patch(column, "changed", "value") for table, column in _DOCUMENTS.items()}
        remove = {table: _pg_patch(column, "gone", "NULL") for table, column in _DOCUMENTS.items()}
        both = {table: remove[table] + add[table] for table in _DOCUMENTS}
        for event, body in (("inserted", add), ("updated", both), ("deleted", remove)):
            op.execute(_pg_function(_PG_FUNCTIONS[event], body))
        for column in _DOCUMENTS.values():
            op.execute(f"UPDATE runs SET {column} = wayline_run_document('[]', CAST({column} AS jsonb))")
        return
    for table, column in _DOCUMENTS.items():
        for event in _EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_documents_{event}")
        for statement in _sqlite_triggers(table, column):
            op.execute(statement)
        op.execute(f"UPDATE runs SET {column} = {_sqlite_document(table, 'runs.run_id')}")


def _revision_0010() -> ModuleType:
    """Revision 0010's module, loaded from its file beside this one."""
    path = Path(__file__).with_name("0010_run_documents.py")
    spec = importlib.util.spec_from_file_location("wayline_revision_0010", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade() -> None:
    # Revision 0010's downgrade drops its triggers, functions and columns (the triggers kept their names);
    # its upgrade adds the columns again, fills the objects from the rows and creates its triggers.
    previous = _revision_0010()
    previous.downgrade()
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS wayline_run_document(text, jsonb)")
    previous.upgrade()
