"""Migrations: new databases are created, old or foreign ones refused, and schema.py equals the migrations."""

from __future__ import annotations

import math
import shutil
import sys
import textwrap
import warnings
from array import array
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from wayline.entities import Metric, Param, RunTag
from wayline.errors import InvalidState
from wayline.store.sql import SqlTrackingStore, current_revision, head_revision, make_engine, upgrade
from wayline.store.sql.migrate import MIGRATIONS_DIR, VERSION_TABLE, alembic_config, ensure_schema
from wayline.store.sql.schema import metadata


def _diff(engine: sa.Engine) -> list[object]:
    dialect = engine.dialect.name

    def on_this_dialect(obj: object, name: object, type_: str, reflected: bool, compare_to: object) -> bool:
        """Indexes that schema.py creates on one dialect only (``ddl_if``) are compared on that dialect."""
        ddl_if = getattr(obj, "_ddl_if", None)
        return reflected or ddl_if is None or ddl_if.dialect in (None, dialect)

    with engine.connect() as conn, warnings.catch_warnings():
        # SQLite cannot reflect expression indexes; PostgreSQL's prefix indexes are not created there.
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "version_table": VERSION_TABLE,
                "include_object": on_this_dialect,
            },
        )
        return list(compare_metadata(context, metadata))


def test_new_database_is_created(empty_db_url: str, artifact_root: str) -> None:
    with SqlTrackingStore(empty_db_url, artifact_root) as store:
        assert current_revision(store.engine) == head_revision()
        assert store.get_experiment("0").name == "Default"
        tables = set(sa.inspect(store.engine).get_table_names())
        assert set(metadata.tables) | {VERSION_TABLE} == tables
    # Reopening an up-to-date database changes nothing.
    with SqlTrackingStore(empty_db_url, artifact_root) as store:
        assert [e.name for e in store.search_experiments()] == ["Default"]


def test_metadata_equals_migrations(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        assert upgrade(engine) == head_revision()
        assert _diff(engine) == []
        # The comparison does see indexes and columns: break one and it reports it.
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP INDEX ix_latest_metrics_experiment_key_nan_value")
        assert _diff(engine) != []
    finally:
        engine.dispose()


def _table_shape(engine: sa.Engine, table: str) -> dict[str, object]:
    """What reflection sees of ``table``, with its DDL on SQLite and its columns' defaults (sequences) and
    collations on PostgreSQL."""
    inspector = sa.inspect(engine)
    shape: dict[str, object] = {
        "columns": [
            (c["name"], repr(c["type"]), c["nullable"], c.get("default"), c.get("autoincrement"))
            for c in inspector.get_columns(table)
        ],
        "primary": inspector.get_pk_constraint(table),
        "indexes": inspector.get_indexes(table),
        "foreign": inspector.get_foreign_keys(table),
        "unique": inspector.get_unique_constraints(table),
        "checks": inspector.get_check_constraints(table),
    }
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            shape["ddl"] = conn.execute(
                sa.text("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = :t ORDER BY name"),
                {"t": table},
            ).all()
        else:
            shape["ddl"] = conn.execute(
                sa.text(
                    "SELECT column_name, column_default, is_identity, collation_name "
                    "FROM information_schema.columns WHERE table_name = :t ORDER BY ordinal_position"
                ),
                {"t": table},
            ).all()
            shape["storage"] = conn.execute(
                sa.text(
                    "SELECT attname, attstorage FROM pg_attribute "
                    "WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 ORDER BY attnum"
                ),
                {"t": table},
            ).all()
    return shape


def test_migrated_blocks_table_equals_metadata(
    backend: str, empty_db_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """``metric_blocks`` made by revision 0009 is the table ``metadata.create_all`` makes: types, keys, the
    index, the autoincrementing id (a rowid alias on SQLite, a bigserial on PostgreSQL)."""
    if backend == "sqlite":
        other_url = f"sqlite:///{tmp_path / 'metadata.db'}"
    else:
        other_url = str(request.getfixturevalue("postgres_server").create_database())
    migrated, created = make_engine(empty_db_url), make_engine(other_url)
    try:
        upgrade(migrated)
        with created.begin() as conn:
            metadata.create_all(conn)
        assert _table_shape(migrated, "metric_blocks") == _table_shape(created, "metric_blocks")
    finally:
        migrated.dispose()
        created.dispose()


#: A revision after the package's head, known only to the copy of the scripts that tests make.
EXTRA_REVISION = "9999"


def _with_extra_revision(tmp_path: Path) -> Path:
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "versions" / "9999_extra.py").write_text(
        textwrap.dedent(
            f'''
            """A later revision, for tests."""
            import sqlalchemy as sa
            from alembic import op

            revision = "{EXTRA_REVISION}"
            down_revision = "{head_revision()}"
            branch_labels = None
            depends_on = None


            def upgrade() -> None:
                op.add_column("runs", sa.Column("extra", sa.Integer, nullable=True))


            def downgrade() -> None:
                op.drop_column("runs", "extra")
            '''
        )
    )
    return copy


def test_older_revision_is_refused_until_upgraded(empty_db_url: str, tmp_path: Path) -> None:
    newer = _with_extra_revision(tmp_path)
    engine = make_engine(empty_db_url)
    try:
        head = head_revision()
        ensure_schema(engine)  # creates the package's head revision
        needs = rf"revision {head}.*needs revision {EXTRA_REVISION}.*`wayline db upgrade`"
        with pytest.raises(InvalidState, match=needs):
            ensure_schema(engine, newer)
        assert current_revision(engine) == head  # never migrated implicitly
        assert upgrade(engine, newer) == EXTRA_REVISION
        ensure_schema(engine, newer)
        assert "extra" in {c["name"] for c in sa.inspect(engine).get_columns("runs")}
        # ...and the package's own migrations do not know 9999.
        with pytest.raises(InvalidState, match="newer Wayline"):
            ensure_schema(engine)
        with pytest.raises(InvalidState, match="newer Wayline"):
            upgrade(engine)
    finally:
        engine.dispose()


def test_database_with_foreign_tables_is_refused(empty_db_url: str, artifact_root: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY, name TEXT)")
            conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32))")
            conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('bd07f7e963c5')")
        with pytest.raises(InvalidState, match="not a Wayline database"):
            SqlTrackingStore(empty_db_url, artifact_root)
        with pytest.raises(InvalidState, match="not a Wayline database"):
            upgrade(empty_db_url)
    finally:
        engine.dispose()


def test_upgrade_by_url_is_idempotent(empty_db_url: str) -> None:
    assert upgrade(empty_db_url) == head_revision()
    assert upgrade(empty_db_url) == head_revision()


def _migrations_until(tmp_path: Path, last: str) -> Path:
    """A copy of the migration scripts that ends at revision ``last``."""
    copy = tmp_path / f"migrations-{last}"
    shutil.copytree(MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for later in copy.glob("versions/*.py"):
        if later.name[:4].isdigit() and later.name[:4] > last:
            later.unlink()
    return copy


def _insert_metric_rows(engine: sa.Engine, rows: list[tuple[str, str, int, int, float, bool]]) -> None:
    """Rows of the points table of revisions before 0009."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO metrics (run_id, key, step, timestamp, value, is_nan) "
                "VALUES (:r, :k, :s, :t, :v, :n)"
            ),
            [dict(zip("rkstvn", row, strict=True)) for row in rows],
        )


def test_upgrading_to_unique_points_keeps_one_of_each(empty_db_url: str, tmp_path: Path) -> None:
    """Revision 0007 (run up to 0007 only: revision 0009 moves the points into blocks)."""
    before, after = _migrations_until(tmp_path, "0006"), _migrations_until(tmp_path, "0007")
    engine = make_engine(empty_db_url)
    try:
        assert upgrade(engine, before) == "0006"
        rows = [("r" * 32, "m", step, 1000 + step, value, False) for step, value in [(1, 0.5), (2, 1.5)]]
        rows += [("r" * 32, "m", 1, 1001, 0.5, False), ("r" * 32, "m", 3, 1003, 0.0, True)] * 2
        _insert_metric_rows(engine, rows)
        assert upgrade(engine, after) == "0007"
        with engine.begin() as conn:
            stored = conn.execute(sa.text("SELECT step, value, is_nan FROM metrics ORDER BY step")).all()
        assert [(s, v, bool(n)) for s, v, n in stored] == [(1, 0.5, False), (2, 1.5, False), (3, 0.0, True)]
        primary = sa.inspect(engine).get_pk_constraint("metrics")
        assert primary["constrained_columns"] == ["run_id", "key", "step", "timestamp", "value", "is_nan"]
    finally:
        engine.dispose()


def test_rows_carry_their_runs_experiment_down_and_up_again(empty_db_url: str, artifact_root: str) -> None:
    """Revision 0008 copies each run's experiment to its latest metrics, params and tags (the search indexes
    start with it); going back to 0007 drops the copies and restores the global indexes, and upgrading again
    fills them in from the runs."""
    with SqlTrackingStore(empty_db_url, artifact_root) as store:
        experiments = [store.create_experiment(name) for name in ("a", "b")]
        for i in range(6):
            run_id = store.create_run(experiments[i % 2], user_id="u", start_time=i).info.run_id
            store.log_batch(
                run_id,
                metrics=[Metric("loss", 1 / (i + 1), 1, 0)],
                params=[Param("p", str(i % 3))],
                tags=[RunTag("t", "x")],
            )

        def searched() -> list[list[str]]:
            return [
                [r.info.run_id for r in store.search_runs([e], order_by=["metrics.loss"], max_results=10)]
                for e in experiments
            ]

        before = searched()
    engine = make_engine(empty_db_url)
    tables = ("latest_metrics", "params", "tags")
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0007")
        inspector = sa.inspect(engine)
        for table in tables:
            assert "experiment_id" not in {c["name"] for c in inspector.get_columns(table)}
        assert "ix_latest_metrics_key_nan_value" in {
            i["name"] for i in inspector.get_indexes("latest_metrics")
        }

        assert upgrade(engine) == head_revision()
        assert _diff(engine) == []
        with engine.connect() as conn:
            for table in tables:
                counts = conn.exec_driver_sql(
                    f"SELECT count(*), sum(CASE WHEN x.experiment_id = r.experiment_id THEN 1 ELSE 0 END) "
                    f"FROM {table} AS x JOIN runs AS r ON r.run_id = x.run_id"
                ).one()
                assert counts[0] >= 6, (table, counts)
                assert counts[0] == counts[1], (table, counts)
    finally:
        engine.dispose()
    with SqlTrackingStore(empty_db_url, artifact_root) as store:
        assert searched() == before
        assert [len(ids) for ids in before] == [3, 3]


def _metrics_table(engine: sa.Engine) -> dict[str, object]:
    """The ``metrics`` table as reflected; on SQLite, whether it is WITHOUT ROWID rather than its DDL's text
    (revision 0007 made it under another name and renamed it)."""
    shape = _table_shape(engine, "metrics")
    if engine.dialect.name == "sqlite":
        ddl = shape.pop("ddl")
        assert isinstance(ddl, list)
        shape["without_rowid"] = [kind == "table" and "WITHOUT ROWID" in sql.upper() for kind, _, sql in ddl]
    return shape


_MetricRow = tuple[str, str, int, int, float, bool]


def _metric_rows(engine: sa.Engine) -> list[_MetricRow]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT run_id, key, step, timestamp, value, is_nan FROM metrics").all()
    return sorted((r, k, s, t, v, bool(n)) for r, k, s, t, v, n in rows)


def _points(run_id: str) -> list[_MetricRow]:
    """Rows of ``metrics`` at revision 0008: NaN as ``value = 0, is_nan = true``, steps out of order and
    negative, timestamps at both ends of int64, several points (one NaN) at one step and timestamp, and one
    key of 2,504 points (three blocks)."""
    big = 2**63 - 1
    rows: list[_MetricRow] = [
        (run_id, "loss", (i * 7919) % 2500 - 1000, 1_700_000_000_000 + i, (i % 97) / 7, False)
        for i in range(2500)
    ]
    rows += [
        (run_id, "loss", 5, 1_700_000_000_005, 0.0, True),  # NaN beside the numbers of step 5
        (run_id, "loss", 5, 1_700_000_000_005, -1.5, False),
        (run_id, "loss", 5, 1_700_000_000_005, float("inf"), False),
        (run_id, "loss", 5, 1_700_000_000_005, float("-inf"), False),
        (run_id, "acc", 3, big, 0.25, False),
        (run_id, "acc", 3, -big - 1, 0.75, False),
        (run_id, "acc", -(2**62), 0, 1e308, False),
        (run_id, "acc", 2**62, big, 0.0, True),  # the last point is NaN (last_value NULL)
        (run_id, "acc", 1, 10, 0.0, True),
        (run_id, "acc", 1, 10, 2.0, False),
        (run_id, "only-nan", 0, 0, 0.0, True),
    ]
    return rows


def _history_order(rows: list[_MetricRow], run_id: str, key: str) -> list[tuple[int, int, float]]:
    """The points of a key in history order: ``(step, timestamp, NaN last, value)``."""
    mine = sorted((s, t, n, v) for r, k, s, t, v, n in rows if (r, k) == (run_id, key))
    return [(s, t, float("nan") if n else v) for s, t, n, v in mine]


def _summary(points: list[tuple[int, int, float]]) -> tuple[int, int, int, int, float | None]:
    """A block's ``(n, first_step, last_step, last_timestamp, last_value)`` for ``points``."""
    step, timestamp, value = points[-1]
    return (len(points), points[0][0], step, timestamp, None if math.isnan(value) else value)


def _same_points(a: list[tuple[int, int, float]], b: list[tuple[int, int, float]]) -> bool:
    def norm(points: list[tuple[int, int, float]]) -> list[tuple[int, int, str]]:
        return [(s, t, repr(v)) for s, t, v in points]

    return norm(a) == norm(b)


def _unordered_block(run_id: str, key: str, points: list[tuple[int, int, float]]) -> dict[str, object]:
    """A ``metric_blocks`` row holding ``points`` as they are (little-endian arrays), not marked ordered."""

    def packed(kind: str, values: list[int] | list[float]) -> bytes:
        packed = array(kind, values)
        if sys.byteorder == "big":
            packed.byteswap()
        return packed.tobytes()

    step, timestamp, value = points[-1]
    return {
        "run_id": run_id,
        "key": key,
        "n": len(points),
        "first_step": min(p[0] for p in points),
        "last_step": step,
        "last_timestamp": timestamp,
        "last_value": None if math.isnan(value) else value,
        "ordered": False,
        "steps": packed("q", [p[0] for p in points]),
        "timestamps": packed("q", [p[1] for p in points]),
        "vals": packed("d", [p[2] for p in points]),
    }


def test_points_move_into_blocks_and_back(empty_db_url: str, artifact_root: str, tmp_path: Path) -> None:
    """Revision 0009 packs the rows of ``metrics`` into blocks of at most 1,000 points per run and key, in
    history order; the store reads the same points back; going back to 0008 gives the same rows again, each
    once, in the table 0007 made."""
    engine = make_engine(empty_db_url)
    try:
        assert upgrade(engine, _migrations_until(tmp_path, "0008")) == "0008"
        table_at_0008 = _metrics_table(engine)
        assert upgrade(engine) == head_revision()
        with SqlTrackingStore(empty_db_url, artifact_root) as store:
            experiment = store.create_experiment("blocks")
            run_ids = [store.create_run(experiment, user_id="u", start_time=i).info.run_id for i in range(3)]
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0008")
        assert _metrics_table(engine) == table_at_0008
        rows = _points(run_ids[0]) + [
            (run_ids[1], "loss", step, 1000 - step, step / 3, False) for step in (9, -3, 4, 0)
        ]
        rows += [(run_ids[1], "acc", 2, 2, 0.0, True), (run_ids[2], "m", 0, 0, 0.5, False)]
        _insert_metric_rows(engine, rows)
        original = _metric_rows(engine)
        assert original == sorted(rows)

        assert upgrade(engine) == head_revision()
        assert _diff(engine) == []
        assert "metrics" not in sa.inspect(engine).get_table_names()
        with engine.connect() as conn:
            blocks = conn.execute(
                sa.text(
                    "SELECT key, n, first_step, last_step, last_timestamp, last_value, ordered "
                    "FROM metric_blocks WHERE run_id = :run_id ORDER BY key, block"
                ),
                {"run_id": run_ids[0]},
            ).all()
        loss = _history_order(rows, run_ids[0], "loss")
        acc = _history_order(rows, run_ids[0], "acc")
        expected = [
            ("acc", *_summary(acc)),
            *(("loss", *_summary(loss[i : i + 1000])) for i in (0, 1000, 2000)),
            ("only-nan", 1, 0, 0, 0, None),
        ]
        assert [(*row[:-1], bool(row[-1])) for row in blocks] == [(*row, True) for row in expected]
        assert [row[1] for row in blocks] == [6, 1000, 1000, 504, 1]

        with SqlTrackingStore(empty_db_url, artifact_root) as store:
            for run_id, key in sorted({(r, k) for r, k, *_ in rows}):
                history = store.get_metric_history(run_id, key).items
                assert {m.key for m in history} == {key}
                read = [(m.step, m.timestamp, m.value) for m in history]
                assert _same_points(read, _history_order(rows, run_id, key)), (run_id, key)

        # A point stored twice (in two blocks, or twice in an unordered block) goes back once.
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO metric_blocks (run_id, key, n, first_step, last_step, last_timestamp, "
                    "last_value, ordered, steps, timestamps, vals) "
                    "SELECT run_id, key, n, first_step, last_step, last_timestamp, last_value, :ordered, "
                    "steps, timestamps, vals FROM metric_blocks WHERE run_id = :run_id"
                ),
                {"run_id": run_ids[1], "ordered": False},
            )
            conn.execute(
                sa.insert(metadata.tables["metric_blocks"]),
                [
                    _unordered_block(run_ids[1], "acc", [(2, 2, math.nan)] * 2),
                    _unordered_block(run_ids[2], "m", [(0, 0, 0.5)] * 3),
                ],
            )
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0008")
        assert "metric_blocks" not in sa.inspect(engine).get_table_names()
        assert _metrics_table(engine) == table_at_0008
        assert _metric_rows(engine) == original
    finally:
        engine.dispose()
