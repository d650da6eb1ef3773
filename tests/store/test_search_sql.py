"""Pieces of the SQL search: LIKE translation, page tokens, query plans."""

from __future__ import annotations

import math
from typing import Any

import pytest
import sqlalchemy as sa

from conftest import PostgresServer
from wayline.entities import Metric, Page, Param, Run, RunTag
from wayline.errors import InvalidParameterValue
from wayline.store.sql import SqlTrackingStore, page_token, run_search
from wayline.store.sql.search_sql import glob_pattern, like_pattern


def _captured(engine: sa.Engine) -> list[tuple[str, object]]:
    """The ``(statement, parameters)`` that ``engine`` executes from now on, as they are executed."""
    statements: list[tuple[str, object]] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def capture(conn: object, cursor: object, statement: str, parameters: object, *args: object) -> None:
        statements.append((statement, parameters))

    return statements


@pytest.mark.parametrize(
    ("pattern", "like", "glob"),
    [
        ("abc", "abc", "abc"),
        ("a%c_", "a%c_", "a*c?"),
        ("a\\%b\\_c", "a\\%b\\_c", "a%b_c"),
        ("star*q?[x]", "star*q?[x]", "star[*]q[?][[]x]"),
        ("back\\\\slash", "back\\\\slash", "back\\slash"),
        ("trailing\\", "trailing\\\\", "trailing\\"),
        ("\\a", "a", "a"),
    ],
)
def test_like_translation(pattern: str, like: str, glob: str) -> None:
    assert like_pattern(pattern) == like
    assert glob_pattern(pattern) == glob


def test_page_token_round_trip() -> None:
    values: list[page_token.TokenValue] = [1, -2.5, math.inf, -math.inf, "täg", 0]
    token = page_token.encode("runs", "q1", values)
    assert token.isascii()
    assert "=" not in token
    decoded = page_token.decode(token, "runs", "q1", [(int, float)] * 4 + [(str,), (int,)])
    assert decoded == values
    nan = page_token.decode(page_token.encode("runs", "q1", [math.nan]), "runs", "q1", [(float,)])
    assert math.isnan(nan[0])


@pytest.mark.parametrize(
    ("token", "kind", "query", "types"),
    [
        ("", "runs", "q", [(int,)]),
        ("@@@", "runs", "q", [(int,)]),
        (page_token.encode("experiments", "q", [1]), "runs", "q", [(int,)]),
        (page_token.encode("runs", "other", [1]), "runs", "q", [(int,)]),
        (page_token.encode("runs", "q", [1, 2]), "runs", "q", [(int,)]),
        (page_token.encode("runs", "q", ["x"]), "runs", "q", [(int,)]),
        (page_token.encode("runs", "q", [True]), "runs", "q", [(int,)]),
    ],
)
def test_bad_page_tokens(token: str, kind: str, query: str, types: list[tuple[type, ...]]) -> None:
    with pytest.raises(InvalidParameterValue, match="page_token"):
        page_token.decode(token, kind, query, types)


def test_sqlite_plan_uses_indexes(tmp_path: object, artifact_root: str) -> None:
    with SqlTrackingStore(f"sqlite:///{tmp_path}/plan.db", artifact_root) as store:
        experiment_id = store.create_experiment("plan")
        for i in range(20):
            run_id = store.create_run(experiment_id, user_id="u", start_time=i).info.run_id
            store.log_batch(
                run_id,
                metrics=[Metric(f"m{k}", i / 20, 1, 0) for k in range(3)],
                params=[Param(f"p{k}", str(i % 3)) for k in range(3)],
            )
        statements = _captured(store.engine)

        store.search_runs(
            [experiment_id],
            filter_string="metrics.m0 < 0.5 and params.p1 = '1'",
            order_by=["metrics.m1"],
            max_results=5,
        )
        sql, parameters = next(s for s in statements if "LIMIT" in s[0])
        with store.engine.connect() as conn:
            plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)]  # type: ignore[arg-type]
        assert not [s for s in plan if s.startswith("SCAN") and "runs" not in s and "order_0" not in s], plan
        indexes = ("ix_params_experiment_key_value", "ix_latest_metrics_experiment_key_nan_value")
        assert any(name in step for step in plan for name in indexes), plan


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize("analyze", [False, True])
def test_sqlite_order_by_one_key_walks_its_index_in_order(
    tmp_path: object, artifact_root: str, analyze: bool, direction: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The head of the order key's index drives the join, with or without planner statistics, bounded by the
    head's last entry and in the index's order, so that no sort of the joined head is needed (at most of the
    run ids of equal values, descending) and SQLite stops at the page's last match."""
    monkeypatch.setattr(run_search, "_PROBE_SHORT_MIN", 8)  # a head shorter than the segment: it has an edge
    with SqlTrackingStore(f"sqlite:///{tmp_path}/order.db", artifact_root) as store:
        experiment_id = store.create_experiment("order")
        for i in range(40):
            run_id = store.create_run(experiment_id, user_id="u", start_time=i).info.run_id
            store.log_batch(
                run_id,
                metrics=[Metric(f"m{k}", (i * 7 % 40) / 40, 1, 0) for k in range(2)],
                params=[Param("p1", "x" if i % 4 == 0 else "y")],
            )
        if analyze:
            with store.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        statements = _captured(store.engine)

        page = store.search_runs(
            [experiment_id],
            filter_string="metrics.m0 < 0.5 and params.p1 = 'x'",
            order_by=[f"metrics.m1 {direction}"],
            max_results=2,
        )
        assert len(page) == 2
        edge = "order_0.value <= ?" if direction == "ASC" else "order_0.value >= ?"
        sql, parameters = next(s for s in statements if "CROSS JOIN" in s[0] and edge in s[0])
        with store.engine.connect() as conn:
            plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)]  # type: ignore[arg-type]
        loops = [step for step in plan if step.startswith(("SCAN", "SEARCH"))]
        bound = "value<?" if direction == "ASC" else "value>?"
        index = "ix_latest_metrics_experiment_key_nan_value"
        walk = (
            f"SEARCH order_0 USING COVERING INDEX {index} "
            f"(experiment_id=? AND key=? AND is_nan=? AND {bound})"
        )
        assert loops[0] == walk, plan
        assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan


def test_second_head_starts_after_the_first_heads_last_entry(
    store: SqlTrackingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the first head of the order key's index holds too few matches, the second head reads the entries
    after the first head's last one (bound as a later page's are) instead of reading the first head's again;
    the pages are the same."""
    monkeypatch.setattr(run_search, "_PROBE_SHORT_FACTOR", 1)
    monkeypatch.setattr(run_search, "_PROBE_SHORT_MIN", 1)
    monkeypatch.setattr(run_search, "_PROBE_FACTOR", 5)
    monkeypatch.setattr(run_search, "_PROBE_MIN", 1)
    experiment_id = store.create_experiment("heads")
    run_ids = []
    for i in range(60):
        run_id = store.create_run(experiment_id, user_id="u", start_time=i).info.run_id
        store.log_batch(run_id, metrics=[Metric("m", i / 60, 1, 0)], params=[Param("p", "xy"[i % 6 != 0])])
        run_ids.append(run_id)
    statements = _captured(store.engine)

    # A page of 3 reads 4 runs: the first head (4 entries) holds one match, so the second head reads
    # entries 5 to 20, after run 3's.
    page = store.search_runs(
        [experiment_id], filter_string="params.p = 'x'", order_by=["metrics.m ASC"], max_results=3
    )
    assert [r.info.run_id for r in page] == [run_ids[0], run_ids[6], run_ids[12]]
    # A later page's condition (``run_id > ...``, after the value), bound to the first head's last entry.
    resumed = [
        values
        for sql, parameters in statements
        if "run_id > " in sql
        for values in [list(parameters.values() if isinstance(parameters, dict) else parameters)]  # type: ignore[attr-defined,call-overload]
    ]
    assert resumed, "no head started after the first head's last entry"
    assert all(run_ids[3] in values and 3 / 60 in values for values in resumed), resumed

    rest = store.search_runs(
        [experiment_id],
        filter_string="params.p = 'x'",
        order_by=["metrics.m ASC"],
        max_results=100,
        page_token=page.next_page_token,
    )
    assert [r.info.run_id for r in rest] == run_ids[18::6]


def _plan_nodes(node: dict[str, object]) -> list[dict[str, object]]:
    """Every node of a PostgreSQL ``EXPLAIN (FORMAT JSON)`` plan, depth first."""
    children = node.get("Plans", [])
    assert isinstance(children, list)
    return [node, *(n for child in children for n in _plan_nodes(child))]


def _two_thousand_runs(
    store: SqlTrackingStore, name: str = "order", runs: int = 2000, *, analyze: bool = True
) -> str:
    """An experiment of 2,000 runs (or ``runs``), each a copy of one template: params p1 (x or y,
    alternating) to p9, and a metric m0 spread over [0, 1); then, with ``analyze``, the database's statistics
    gathered. Returns the experiment's id."""
    experiment_id = store.create_experiment(name)
    template = store.create_run(experiment_id, user_id="u", start_time=0).info.run_id
    sizes = {"template": template, "experiment": int(experiment_id), "runs": runs}
    with store.engine.begin() as conn:  # the runs at once, each a copy of the template
        new_id = "md5(%(experiment)s || '-' || g)"
        conn.exec_driver_sql(
            "INSERT INTO runs (run_id, experiment_id, name, user_id, status, start_time, end_time, "
            f"lifecycle_stage, artifact_uri, deleted_time) SELECT {new_id}, experiment_id, 'run-' || g, "
            "user_id, status, g, end_time, lifecycle_stage, artifact_uri, deleted_time "
            "FROM runs, generate_series(1, %(runs)s) AS g WHERE run_id = %(template)s",
            sizes,
        )
        conn.exec_driver_sql(  # p1 is x or y, p2 to p9 other values
            f"INSERT INTO params (run_id, experiment_id, key, value) SELECT {new_id}, %(experiment)s, "
            "'p' || k, CASE WHEN k > 1 THEN 'v' || mod(g, 37) WHEN mod(g, 2) = 0 THEN 'x' ELSE 'y' END "
            "FROM generate_series(1, %(runs)s) AS g, generate_series(1, 9) AS k",
            sizes,
        )
        conn.exec_driver_sql(
            "INSERT INTO latest_metrics (run_id, experiment_id, key, value, is_nan, step, timestamp) "
            f"SELECT {new_id}, %(experiment)s, 'm0', mod(g * 7, %(runs)s) / %(runs)s::float8, false, 0, 0 "
            "FROM generate_series(1, %(runs)s) AS g",
            sizes,
        )
        if analyze:
            conn.exec_driver_sql("ANALYZE")
    return experiment_id


def _head_plan(
    store: SqlTrackingStore, experiment_id: str, order: str = "metrics.m0 ASC", *, analyze: bool = False
) -> tuple[Page[Run], Any]:
    """The page of the filtered search (``metrics.m0 < 0.5 and params.p1 = 'x'``, 100 runs) ordered by
    ``order``, and PostgreSQL's plan of its head statement (``EXPLAIN (FORMAT JSON)``, run with
    ``analyze``)."""
    statements = _captured(store.engine)
    page = store.search_runs(
        [experiment_id],
        filter_string="metrics.m0 < 0.5 and params.p1 = 'x'",
        order_by=[order],
        max_results=100,
    )
    sql, parameters = next(s for s in statements if "order_0" in s[0])
    options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
    with store.engine.connect() as conn:
        explained = conn.exec_driver_sql(f"EXPLAIN ({options}) {sql}", parameters).scalar_one()  # type: ignore[arg-type]
    return page, explained


@pytest.mark.postgres
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
def test_postgres_head_of_the_order_key_looks_up_each_entry_in_its_order(
    postgres_server: PostgresServer, artifact_root: str, direction: str
) -> None:
    """On PostgreSQL the head of the order key's index drives nested loops that look up each entry's run and
    filter rows by key, so that the head's order holds and no sort follows the join. With statistics of
    2,000 runs of nine params each, the planner would otherwise hash-join the head with a scan of every run
    of the experiment and every row the filter matches, whose cost grows with the experiment, and sort the
    result."""
    with SqlTrackingStore(postgres_server.create_database(), artifact_root) as store:
        experiment_id = _two_thousand_runs(store)
        descending = "DESC" if direction == "DESC" else "ASC"
        with store.engine.connect() as conn:
            expected = (
                conn.exec_driver_sql(
                    "SELECT m.run_id FROM latest_metrics m "
                    "JOIN params p ON p.run_id = m.run_id AND p.key = 'p1' "
                    "WHERE m.key = 'm0' AND m.value < 0.5 AND p.value = 'x' "
                    f"ORDER BY m.value {descending}, m.run_id LIMIT 100"
                )
                .scalars()
                .all()
            )
        page, explained = _head_plan(store, experiment_id, f"metrics.m0 {direction}")
        assert [run.info.run_id for run in page] == expected
    nodes = _plan_nodes(explained[0]["Plan"])
    kinds = [node["Node Type"] for node in nodes]
    # No sort after the join (the head itself may sort the run ids of equal values, descending).
    assert kinds[:2] == ["Limit", "Nested Loop"], kinds
    assert "Hash Join" not in kinds, kinds
    assert "Merge Join" not in kinds, kinds
    assert "Seq Scan" not in kinds, kinds


@pytest.mark.postgres
def test_postgres_head_reads_a_run_only_for_entries_that_pass_the_filter(
    postgres_server: PostgresServer, artifact_root: str
) -> None:
    """Each entry of the head probes the filter's params first; only the entries that match look up their
    run, so a filter that passes one entry in two reads half as many runs as the head has entries."""
    with SqlTrackingStore(postgres_server.create_database(), artifact_root) as store:
        page, explained = _head_plan(store, _two_thousand_runs(store), analyze=True)
        assert len(page.items) == 100
    nodes = _plan_nodes(explained[0]["Plan"])
    loops = {node.get("Relation Name"): node["Actual Loops"] for node in nodes if "Relation Name" in node}
    returned = explained[0]["Plan"]["Actual Rows"]
    assert returned == 101, explained  # the page and one more, for the next page's token
    assert loops["runs"] == returned, loops
    assert loops["params"] > 1.5 * returned, loops  # one entry in two matches


@pytest.mark.postgres
def test_postgres_head_looks_up_runs_by_id_in_an_experiment_newer_than_the_statistics(
    postgres_server: PostgresServer, artifact_root: str
) -> None:
    """The newest experiment is the one people search, and the statistics may predate it (they are gathered
    again once a table has doubled, or by autovacuum after a tenth of it changed): to the planner it holds no
    runs. Each head entry still looks its run up by id (``runs_pkey``), not through the experiment's
    ``(experiment_id, lifecycle_stage, start_time, run_id)`` index, which reads every run of the experiment
    for each entry."""
    with SqlTrackingStore(postgres_server.create_database(), artifact_root) as store:
        _two_thousand_runs(store)  # analyzed
        newest = _two_thousand_runs(store, "newest", 1000, analyze=False)  # the tables grow by half
        page, explained = _head_plan(store, newest)
        assert len(page.items) == 100
        assert {run.info.experiment_id for run in page} == {newest}
    runs = [node for node in _plan_nodes(explained[0]["Plan"]) if node.get("Relation Name") == "runs"]
    assert [node.get("Index Name") for node in runs] == ["runs_pkey"], runs


def test_every_writer_gives_rows_their_runs_experiment(store: SqlTrackingStore) -> None:
    """Latest metrics, params and tags carry their run's experiment (the search indexes start with it),
    whichever way they were written: a new run's tags, a general batch, a few points (one statement on
    PostgreSQL), one param or tag (one statement), a rename."""
    for name in ("first", "second"):
        experiment_id = store.create_experiment(name)
        run_id = store.create_run(
            experiment_id, user_id="u", start_time=0, tags=[RunTag("t0", "v")]
        ).info.run_id
        store.log_batch(
            run_id,
            metrics=[Metric(f"m{i % 3}", float(i), i, i) for i in range(40)],
            params=[Param("p0", "0"), Param("p1", "1")],
            tags=[RunTag("t1", "a"), RunTag("t2", "b")],
        )
        store.log_batch(run_id, metrics=[Metric("one", 1.0, 1, 0)])
        store.log_batch(run_id, params=[Param("p2", "2")])
        store.log_batch(run_id, tags=[RunTag("t3", "c")])
        store.log_batch(run_id, tags=[RunTag("t3", "d")])
        store.log_batch(run_id, tags=[RunTag("mlflow.runName", "renamed")])
        store.update_run_info(run_id, run_name="renamed again")
    with store.engine.connect() as conn:
        for table, expected in (("latest_metrics", 4), ("params", 3), ("tags", 5)):
            rows = conn.exec_driver_sql(
                f"SELECT r.experiment_id, count(*), "
                f"sum(CASE WHEN x.experiment_id = r.experiment_id THEN 1 ELSE 0 END) "
                f"FROM {table} AS x JOIN runs AS r ON r.run_id = x.run_id "
                "GROUP BY r.experiment_id ORDER BY r.experiment_id"
            ).all()
            # metrics m0 to m2 and one; params p0 to p2; tags t0 to t3 and mlflow.runName
            assert [count for _, count, _ in rows] == [expected, expected], (table, rows)
            assert all(count == same for _, count, same in rows), (table, rows)


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
def test_sqlite_search_of_one_experiment_walks_only_its_entries(
    tmp_path: object, artifact_root: str, direction: str
) -> None:
    """A key shared by many experiments (``loss`` on a team server): the walk of its index starts at the
    searched experiment's entries, so other experiments' runs are never read, however many there are."""
    with SqlTrackingStore(f"sqlite:///{tmp_path}/shared.db", artifact_root) as store:
        experiment_ids = [store.create_experiment(f"e{e}") for e in range(5)]
        expected: dict[str, list[tuple[float, str]]] = {e: [] for e in experiment_ids}
        for i in range(100):
            experiment_id = experiment_ids[i % 5]
            run_id = store.create_run(experiment_id, user_id="u", start_time=i).info.run_id
            loss = (i * 37 % 100) / 100
            store.log_batch(run_id, metrics=[Metric("loss", loss, 1, 0)], params=[Param("p", str(i % 2))])
            if i % 2 == 0:
                expected[experiment_id].append((loss, run_id))
        searched = experiment_ids[2]
        statements = _captured(store.engine)

        page = store.search_runs(
            [searched], filter_string="params.p = '0'", order_by=[f"metrics.loss {direction}"], max_results=5
        )
        ordered = sorted(
            expected[searched], key=lambda pair: (-pair[0] if direction == "DESC" else pair[0], pair[1])
        )
        assert [run.info.run_id for run in page] == [run_id for _, run_id in ordered[:5]]
        sql, parameters = next(s for s in statements if "CROSS JOIN" in s[0])
        with store.engine.connect() as conn:
            plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)]  # type: ignore[arg-type]
        loops = [step for step in plan if step.startswith(("SCAN", "SEARCH"))]
        index = "ix_latest_metrics_experiment_key_nan_value"
        assert loops[0].startswith(
            f"SEARCH order_0 USING COVERING INDEX {index} (experiment_id=? AND key=?"
        ), plan

        # Several experiments: each one's entries are read, then sorted; the merged order is exact.
        both = [experiment_ids[1], experiment_ids[3]]
        page = store.search_runs(both, filter_string="params.p = '0'", order_by=[f"metrics.loss {direction}"])
        merged = sorted(
            expected[both[0]] + expected[both[1]],
            key=lambda pair: (-pair[0] if direction == "DESC" else pair[0], pair[1]),
        )
        assert [run.info.run_id for run in page] == [run_id for _, run_id in merged]


def _shared_key_experiments(store: SqlTrackingStore) -> list[int]:
    """Ten experiments of 500 runs each, built in SQL on PostgreSQL, sharing a metric ``loss``, a param ``p``
    (``x`` for half the runs) and a param ``q`` (one of 250 values, so two runs of each experiment have each),
    then analyzed: the statistics of a team server."""
    experiment_ids = [int(store.create_experiment(f"e{e}")) for e in range(10)]
    template = store.create_run(str(experiment_ids[0]), user_id="u", start_time=0).info.run_id
    with store.engine.begin() as conn:
        for e in experiment_ids:
            new_id = f"md5('{e}-' || g::text)"
            arguments = {"template": template, "experiment": e}
            conn.exec_driver_sql(
                "INSERT INTO runs (run_id, experiment_id, name, user_id, status, start_time, end_time, "
                f"lifecycle_stage, artifact_uri, deleted_time) SELECT {new_id}, %(experiment)s, "
                "'run-' || g, user_id, status, g, end_time, lifecycle_stage, artifact_uri, deleted_time "
                "FROM runs, generate_series(1, 500) AS g WHERE run_id = %(template)s",
                arguments,
            )
            conn.exec_driver_sql(
                "INSERT INTO params (run_id, experiment_id, key, value) "
                f"SELECT {new_id}, %(experiment)s, 'p', CASE WHEN mod(g, 2) = 0 THEN 'x' ELSE 'y' END "
                f"FROM generate_series(1, 500) AS g UNION ALL SELECT {new_id}, %(experiment)s, 'q', "
                "mod(g, 250)::text FROM generate_series(1, 500) AS g",
                arguments,
            )
            conn.exec_driver_sql(
                "INSERT INTO latest_metrics (run_id, experiment_id, key, value, is_nan, step, timestamp) "
                f"SELECT {new_id}, %(experiment)s, 'loss', mod(g * 7 + %(experiment)s, 500) / 500.0, "
                "false, 0, 0 FROM generate_series(1, 500) AS g",
                arguments,
            )
        conn.exec_driver_sql("ANALYZE")
    return experiment_ids


@pytest.mark.postgres
def test_postgres_search_of_one_experiment_walks_only_its_entries(
    postgres_server: PostgresServer, artifact_root: str
) -> None:
    """On PostgreSQL, with the statistics of ten experiments of 500 runs sharing a metric, the head of the
    order key's index is read from the searched experiment's entries only (an index condition on
    ``experiment_id``), and the page is that experiment's."""
    with SqlTrackingStore(postgres_server.create_database(), artifact_root) as store:
        experiment_ids = _shared_key_experiments(store)
        with store.engine.begin() as conn:
            searched = experiment_ids[6]
            expected = (
                conn.exec_driver_sql(
                    "SELECT m.run_id FROM latest_metrics m JOIN runs r ON r.run_id = m.run_id "
                    "JOIN params p ON p.run_id = m.run_id AND p.key = 'p' "
                    "WHERE m.key = 'loss' AND p.value = 'x' AND r.experiment_id = %(experiment)s "
                    "ORDER BY m.value, m.run_id LIMIT 50",
                    {"experiment": searched},
                )
                .scalars()
                .all()
            )
        statements = _captured(store.engine)

        page = store.search_runs(
            [str(searched)], filter_string="params.p = 'x'", order_by=["metrics.loss"], max_results=50
        )
        assert [run.info.run_id for run in page] == expected
        sql, parameters = next(s for s in statements if "order_0" in s[0])
        with store.engine.connect() as conn:
            explained = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}", parameters).scalar_one()  # type: ignore[arg-type]
    walks = [
        node for node in _plan_nodes(explained[0]["Plan"]) if node.get("Relation Name") == "latest_metrics"
    ]
    assert [node["Index Name"] for node in walks] == ["ix_latest_metrics_experiment_key_nan_value"], walks
    assert "experiment_id =" in str(walks[0]["Index Cond"]), walks


@pytest.mark.postgres
@pytest.mark.parametrize("searched", [[6], [2, 6]])
def test_postgres_filter_reads_the_searched_experiments_rows_of_its_key(
    postgres_server: PostgresServer, artifact_root: str, searched: list[int]
) -> None:
    """A filter on a param that every experiment has, equal to a rare value, is read from the searched
    experiments' rows of the key (an index condition on ``experiment_id``), not from a scan of every
    experiment's; the page is the same. So are a filter inside an OR, which becomes a subquery, and a
    search ordered by the key itself."""
    with SqlTrackingStore(postgres_server.create_database(), artifact_root) as store:
        experiment_ids = _shared_key_experiments(store)
        chosen = [experiment_ids[i] for i in searched]
        with store.engine.connect() as conn:
            expected = (
                conn.exec_driver_sql(
                    "SELECT r.run_id FROM runs r JOIN params q ON q.run_id = r.run_id AND q.key = 'q' "
                    "WHERE q.value = '7' AND r.experiment_id = ANY(%(experiments)s) "
                    "ORDER BY r.start_time DESC, r.run_id",
                    {"experiments": chosen},
                )
                .scalars()
                .all()
            )
        assert len(expected) == 2 * len(chosen)
        for filter_string in ("params.q = '7'", "params.q = '7' OR params.q = 'none'"):
            statements = _captured(store.engine)
            page = store.search_runs([str(e) for e in chosen], filter_string=filter_string)
            assert [run.info.run_id for run in page] == expected, filter_string
            sql, parameters = next(s for s in statements if "lifecycle_stage" in s[0])  # the page
            with store.engine.connect() as conn:
                explained = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}", parameters).scalar_one()  # type: ignore[arg-type]
            reads = [n for n in _plan_nodes(explained[0]["Plan"]) if n.get("Relation Name") == "params"]
            assert reads, explained
            for node in reads:
                assert node.get("Index Name") == "ix_params_experiment_key_prefix", (filter_string, node)
                assert "experiment_id" in str(node.get("Index Cond")), (filter_string, node)


def test_sqlite_filter_reads_the_searched_experiments_rows_of_its_key(
    tmp_path: object, artifact_root: str
) -> None:
    """On SQLite the filter's rows of its key are looked up in the key's ``(experiment_id, key, value)``
    index of the searched experiment, and the page is that experiment's runs with the value."""
    with SqlTrackingStore(f"sqlite:///{tmp_path}/filter.db", artifact_root) as store:
        experiment_ids = [store.create_experiment(f"e{e}") for e in range(3)]
        expected = []
        for i in range(60):
            experiment_id = experiment_ids[i % 3]
            run_id = store.create_run(experiment_id, user_id="u", start_time=i).info.run_id
            store.log_batch(run_id, params=[Param("q", str(i % 10))])
            if experiment_id == experiment_ids[1] and i % 10 == 7:
                expected.append(run_id)
        statements = _captured(store.engine)

        page = store.search_runs([experiment_ids[1]], filter_string="params.q = '7'")
        assert [run.info.run_id for run in page] == expected[::-1]  # newest first
        sql, parameters = next(s for s in statements if s[0].lstrip().startswith("SELECT runs.run_id"))
        with store.engine.connect() as conn:
            plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)]  # type: ignore[arg-type]
        index = "ix_params_experiment_key_value (experiment_id=? AND key=? AND value=?"
        assert any(step.startswith("SEARCH filter_0") and index in step for step in plan), plan
