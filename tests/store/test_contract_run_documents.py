"""A run row's params and tags documents (``params_json``, ``tags_json``) always hold its params and tags
rows, whichever writer changed them, as the REST API's compact list of ``{"key", "value"}`` sorted by key:
the database's triggers keep them (revisions 0010 and 0011)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from alembic import command

from wayline.entities import Param, RunTag
from wayline.errors import InvalidParameterValue
from wayline.store.sql import SqlTrackingStore, head_revision, make_engine, upgrade
from wayline.store.sql.migrate import alembic_config
from workers import run_workers


def _pairs(document: str) -> dict[str, str]:
    """The pairs of a run row's document, which must be the wire's list, by key, compact (or, never written,
    the column default ``{}``)."""
    if document == "{}":
        return {}
    items = json.loads(document)
    assert isinstance(items, list)
    assert all(list(item) == ["key", "value"] for item in items)
    keys = [item["key"] for item in items]
    assert keys == sorted(keys)
    assert document == json.dumps(items, ensure_ascii=False, separators=(",", ":"))
    return {item["key"]: item["value"] for item in items}


def _documents(store: SqlTrackingStore, run_id: str) -> tuple[dict[str, str], dict[str, str]]:
    with store.engine.connect() as conn:
        params, tags = conn.execute(
            sa.text("SELECT params_json, tags_json FROM runs WHERE run_id = :r"), {"r": run_id}
        ).one()
    return _pairs(params), _pairs(tags)


def _rows(store: SqlTrackingStore, run_id: str) -> tuple[dict[str, str], dict[str, str]]:
    with store.engine.connect() as conn:
        found = [
            dict(
                conn.execute(
                    sa.text(f"SELECT key, value FROM {table} WHERE run_id = :r"), {"r": run_id}
                ).all()
            )
            for table in ("params", "tags")
        ]
    return found[0], found[1]


def _assert_kept(store: SqlTrackingStore, run_id: str) -> tuple[dict[str, str], dict[str, str]]:
    rows = _rows(store, run_id)
    assert _documents(store, run_id) == rows
    run = store.get_run(run_id)
    assert (run.data.params, run.data.tags) == rows
    assert list(run.data.params) == sorted(rows[0])
    assert list(run.data.tags) == sorted(rows[1])
    return rows


def test_every_writer_keeps_the_documents(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run(name="first", tags={"team": "a", "quote": 'say "hi"\n\\ \u00e9'})
    params, tags = _assert_kept(store, run_id)
    assert params == {}
    assert tags["mlflow.runName"] == "first"

    store.log_batch(run_id, params=[Param("lr", "0.1"), Param("layers", "3")], tags=[RunTag("team", "b")])
    # Sorted by code point, as Python sorts (byte-wise in UTF-8), not by a locale: "B" < "a" < "é" < "中".
    store.log_batch(run_id, tags=[RunTag(key, "\x01\t" + key) for key in ["中", "a", "\u00e9", "B"]])
    _assert_kept(store, run_id)
    store.log_batch(run_id, params=[Param("seed", "7")])  # one param: one statement
    store.log_batch(run_id, tags=[RunTag("stage", "x")])  # one tag: one statement
    store.log_batch(run_id, tags=[RunTag("stage", "y")])  # replaced in one statement
    store.log_batch(run_id, params=[Param("lr", "0.1")], tags=[RunTag("mlflow.runName", "second")])
    params, tags = _assert_kept(store, run_id)
    assert params == {"lr": "0.1", "layers": "3", "seed": "7"}
    assert (tags["team"], tags["stage"], tags["mlflow.runName"]) == ("b", "y", "second")

    store.update_run_info(run_id, status=None, end_time=None, run_name="third")
    store.delete_tag(run_id, "stage")
    params, tags = _assert_kept(store, run_id)
    assert "stage" not in tags
    assert tags["mlflow.runName"] == "third"


def test_a_refused_write_changes_no_document(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run(tags={"t": "1"})
    store.log_batch(run_id, params=[Param("lr", "0.1")])
    before = _assert_kept(store, run_id)
    with pytest.raises(InvalidParameterValue):
        store.log_batch(run_id, params=[Param("lr", "0.2")], tags=[RunTag("t", "2")])
    assert _assert_kept(store, run_id) == before


def test_many_keys_in_one_batch(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    store.log_batch(
        run_id,
        params=[Param(f"p{i}", "v" * i) for i in range(100)],
        tags=[RunTag(f"t{i}", str(i)) for i in range(100)],
    )
    params, tags = _assert_kept(store, run_id)
    assert (len(params), len(tags)) == (100, 101)


def test_other_runs_keep_theirs(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    first, second = new_run(tags={"t": "1"}), new_run(tags={"t": "2"})
    store.log_batch(first, params=[Param("p", "1")], tags=[RunTag("u", "1")])
    store.delete_tag(first, "t")
    assert _assert_kept(store, second) == (
        {},
        {"t": "2", "mlflow.runName": _rows(store, second)[1]["mlflow.runName"]},
    )
    assert _assert_kept(store, first)[0] == {"p": "1"}


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
def test_concurrent_writers_of_one_run_lose_nothing(
    store: SqlTrackingStore, new_run: Callable[..., str]
) -> None:
    """Writers of one run's tags and params in parallel (single tags, batches, deletions, renames) neither
    deadlock nor lose one another's keys: each merges into the run row as it finds it."""
    run_id = new_run()

    def write(worker: int) -> None:
        for i in range(15):
            store.log_batch(run_id, tags=[RunTag(f"w{worker}", str(i))])
            store.log_batch(run_id, tags=[RunTag("shared", f"{worker}-{i}-alone")])
            store.log_batch(
                run_id,
                params=[Param(f"p{worker}-{i}", str(i))],
                tags=[RunTag("shared", f"{worker}-{i}"), RunTag(f"b{worker}-{i}", "x")],
            )
            if i % 5 == 4:
                store.delete_tag(run_id, f"b{worker}-{i}")
                store.update_run_info(run_id, status=None, end_time=None, run_name=f"n{worker}-{i}")

    run_workers(write, 4)
    params, tags = _assert_kept(store, run_id)
    assert len(params) == 60
    assert {tags[f"w{w}"] for w in range(4)} == {"14"}
    assert sum(key.startswith("b") for key in tags) == 4 * 12


def test_upgrade_fills_the_documents_from_the_rows(empty_db_url: str, artifact_root: str) -> None:
    with SqlTrackingStore(empty_db_url, artifact_root) as store:
        run_id = store.create_run("0", user_id="u", start_time=1, tags=[RunTag("t", "1")]).info.run_id
        store.log_batch(run_id, params=[Param("p", "1")])
        empty = store.create_run("0", user_id="u", start_time=2).info.run_id
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0009")
        assert "params_json" not in {c["name"] for c in sa.inspect(engine).get_columns("runs")}
        with engine.begin() as conn:  # written while no trigger keeps a document
            conn.execute(
                sa.text("INSERT INTO tags (run_id, key, value, experiment_id) VALUES (:r, 'late', 'x', 0)"),
                {"r": run_id},
            )
        assert upgrade(engine) == head_revision()
    finally:
        engine.dispose()
    with SqlTrackingStore(empty_db_url, artifact_root) as store:
        params, tags = _assert_kept(store, run_id)
        assert params == {"p": "1"}
        assert (tags["late"], tags["t"]) == ("x", "1")
        assert _assert_kept(store, empty)[0] == {}


def test_downgrade_to_objects_and_back(empty_db_url: str, artifact_root: str) -> None:
    """Revision 0011's downgrade gives back revision 0010's objects, kept by its triggers; upgrading again
    turns what they hold into lists."""
    with SqlTrackingStore(empty_db_url, artifact_root) as store:
        run_id = store.create_run("0", user_id="u", start_time=1, tags=[RunTag("t", "1")]).info.run_id
        store.log_batch(run_id, params=[Param("b", "2"), Param("a", "1")])
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0010")
        with engine.begin() as conn:  # kept by revision 0010's triggers, as an object
            conn.execute(
                sa.text("INSERT INTO params (run_id, key, value, experiment_id) VALUES (:r, 'c', '3', 0)"),
                {"r": run_id},
            )
            conn.execute(sa.text("DELETE FROM params WHERE run_id = :r AND key = 'b'"), {"r": run_id})
            document = conn.execute(
                sa.text("SELECT params_json FROM runs WHERE run_id = :r"), {"r": run_id}
            ).scalar_one()
        assert json.loads(document) == {"a": "1", "c": "3"}
        assert upgrade(engine) == head_revision()
    finally:
        engine.dispose()
    with SqlTrackingStore(empty_db_url, artifact_root) as store:
        params, tags = _assert_kept(store, run_id)
        assert params == {"a": "1", "c": "3"}
        assert tags["t"] == "1"
