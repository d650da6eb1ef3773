"""The search-language parser: keys, operators, values, precedence, order_by, errors and fuzzing."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wayline.errors import InvalidParameterValue, SearchSyntaxError
from wayline.search import (
    MAX_FILTER_LENGTH,
    MAX_NESTING,
    And,
    Comparison,
    Entity,
    Expr,
    Key,
    Or,
    OrderBy,
    parse_filter,
    parse_order_by,
)

M = Key("metric", "m")
P = Key("param", "p")
T = Key("tag", "t")


def _one(text: str, entity: str = "run") -> Comparison:
    expr = parse_filter(text, entity)  # type: ignore[arg-type]
    assert isinstance(expr, Comparison)
    return expr


def _error(text: str, entity: str = "run") -> SearchSyntaxError:
    with pytest.raises(SearchSyntaxError) as info:
        parse_filter(text, entity)  # type: ignore[arg-type]
    return info.value


# -- empty filters -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [None, "", " ", "\n\t "])
def test_blank_filter_is_none(text: str | None) -> None:
    assert parse_filter(text) is None
    assert parse_filter(text, "experiment") is None


# -- keys ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lhs", "key"),
    [
        ("metrics.rmse", Key("metric", "rmse")),
        ("metric.rmse", Key("metric", "rmse")),
        ("METRICS.rmse", Key("metric", "rmse")),
        ("metrics.`my metric`", Key("metric", "my metric")),
        ('metrics."my metric"', Key("metric", "my metric")),
        ("metrics.'my metric'", Key("metric", "my metric")),
        ("`metrics`.`my metric`", Key("metric", "my metric")),
        ("`metrics.my metric`", Key("metric", "my metric")),
        ("metrics.`a.b`", Key("metric", "a.b")),
        ("metrics.val.loss", Key("metric", "val.loss")),
        ("metrics.2019_err", Key("metric", "2019_err")),
        ("metrics.准确率", Key("metric", "准确率")),
    ],
)
def test_metric_keys(lhs: str, key: Key) -> None:
    assert _one(f"{lhs} > 1") == Comparison(key, ">", 1.0, 0)


@pytest.mark.parametrize(
    ("lhs", "key"),
    [
        ("params.lr", Key("param", "lr")),
        ("param.lr", Key("param", "lr")),
        ("parameters.lr", Key("param", "lr")),
        ("parameter.lr", Key("param", "lr")),
        ('params."model-type"', Key("param", "model-type")),
        ("params.`model type`", Key("param", "model type")),
        ("tags.team", Key("tag", "team")),
        ("tag.team", Key("tag", "team")),
        ("tags.mlflow.runName", Key("tag", "mlflow.runName")),
        ('tags."mlflow.runName"', Key("tag", "mlflow.runName")),
        ("tags.`my key`", Key("tag", "my key")),
        ("`tags.my key`", Key("tag", "my key")),
        ("tags.`a``b`", Key("tag", "a`b")),
        ("tags.in", Key("tag", "in")),
        ("datasets.name", Key("dataset", "name")),
        ("dataset.digest", Key("dataset", "digest")),
        ("datasets.context", Key("dataset", "context")),
    ],
)
def test_string_keys(lhs: str, key: Key) -> None:
    assert _one(f"{lhs} = 'x'") == Comparison(key, "=", "x", 0)


@pytest.mark.parametrize("prefix", ["", "attributes.", "attribute.", "attr.", "run.", "`attributes`."])
@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("run_id", "run_id"),
        ("run_name", "run_name"),
        ("status", "status"),
        ("user_id", "user_id"),
        ("artifact_uri", "artifact_uri"),
        ("lifecycle_stage", "lifecycle_stage"),
        ("experiment_id", "experiment_id"),
        ("runName", "run_name"),
        ("`run name`", "run_name"),
        ("`Run name`", "run_name"),
        ("`Run Name`", "run_name"),
    ],
)
def test_string_attributes(prefix: str, name: str, canonical: str) -> None:
    assert _one(f"{prefix}{name} = 'x'").key == Key("attribute", canonical)


@pytest.mark.parametrize("prefix", ["", "attributes.", "attr.", "run."])
@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("start_time", "start_time"),
        ("end_time", "end_time"),
        ("created", "start_time"),
        ("Created", "start_time"),
    ],
)
def test_numeric_attributes(prefix: str, name: str, canonical: str) -> None:
    assert _one(f"{prefix}{name} >= 1700000000000") == Comparison(
        Key("attribute", canonical), ">=", 1700000000000, 0
    )


@pytest.mark.parametrize(
    ("lhs", "key"),
    [
        ("name", Key("attribute", "name")),
        ("attributes.name", Key("attribute", "name")),
        ("attr.experiment_id", Key("attribute", "experiment_id")),
        ("experiment_id", Key("attribute", "experiment_id")),
        ("tags.team", Key("tag", "team")),
        ("tags.`my key`", Key("tag", "my key")),
    ],
)
def test_experiment_string_keys(lhs: str, key: Key) -> None:
    assert _one(f"{lhs} LIKE 'x%'", "experiment") == Comparison(key, "LIKE", "x%", 0)


@pytest.mark.parametrize("lhs", ["creation_time", "last_update_time", "attributes.creation_time"])
def test_experiment_numeric_keys(lhs: str) -> None:
    assert _one(f"{lhs} < 5", "experiment").value == 5


# -- operators and values ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("op", "canonical"),
    [("=", "="), ("!=", "!="), ("<>", "!="), ("<", "<"), ("<=", "<="), (">", ">"), (">=", ">=")],
)
def test_metric_operators(op: str, canonical: str) -> None:
    assert _one(f"metrics.m {op} 0.5") == Comparison(M, canonical, 0.5, 0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("1", 1.0),
        ("-1", -1.0),
        ("0.25", 0.25),
        (".5", 0.5),
        ("-.5", -0.5),
        ("1e3", 1000.0),
        ("-2.5E-2", -0.025),
    ],
)
def test_metric_values_are_floats(literal: str, value: float) -> None:
    result = _one(f"metrics.m = {literal}").value
    assert isinstance(result, float)
    assert result == value


@pytest.mark.parametrize("lhs", ["params.p", "tags.t", "status", "datasets.name"])
@pytest.mark.parametrize("op", ["=", "!=", "LIKE", "like", "ILIKE", "iLike"])
def test_string_operators(lhs: str, op: str) -> None:
    result = _one(f"{lhs} {op} 'v%'")
    assert (result.op, result.value) == (op.upper() if op.isalpha() else op, "v%")


@pytest.mark.parametrize(
    "lhs", ["params.p", "tags.t", "run_id", "status", "datasets.digest", "datasets.context"]
)
@pytest.mark.parametrize(
    ("op", "canonical"), [("IN", "IN"), ("in", "IN"), ("NOT IN", "NOT IN"), ("not  in", "NOT IN")]
)
def test_in_lists(lhs: str, op: str, canonical: str) -> None:
    result = _one(f"{lhs} {op} ('a', \"b\",'c''d')")
    assert (result.op, result.value) == (canonical, ("a", "b", "c'd"))


def test_in_list_of_one() -> None:
    assert _one("attributes.run_id IN ('r1')").value == ("r1",)


@pytest.mark.parametrize("lhs", ["metrics.m", "params.p", "tags.t"])
@pytest.mark.parametrize(
    ("op", "canonical"), [("IS NULL", "IS NULL"), ("is null", "IS NULL"), ("IS NOT NULL", "IS NOT NULL")]
)
def test_null_tests(lhs: str, op: str, canonical: str) -> None:
    result = _one(f"{lhs} {op}")
    assert (result.op, result.value) == (canonical, None)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("params.p = 'it''s'", "it's"),
        ("params.p = 'it\\'s'", "it's"),
        ('params.p = "say ""hi"""', 'say "hi"'),
        ("params.p = ''", ""),
        ("params.p LIKE 'a\\_b'", "a\\_b"),
        ("params.p = '0.1'", "0.1"),
    ],
)
def test_string_values(text: str, value: str) -> None:
    assert _one(text).value == value


def test_comparison_positions() -> None:
    expr = parse_filter("metrics.a = 1 AND  (tags.b = 'x' OR params.c = 'y')")
    assert isinstance(expr, And)
    first, inner = expr.items
    assert isinstance(first, Comparison)
    assert isinstance(inner, Or)
    assert [first.position] + [c.position for c in inner.items if isinstance(c, Comparison)] == [0, 20, 36]


# -- precedence, parentheses, flattening ---------------------------------------------------------------------
def _c(key: Key, value: str | float) -> Comparison:
    return Comparison(key, "=", value)


def _strip(expr: Expr | None) -> Expr | None:
    """The tree with positions zeroed, for structural comparison."""
    if isinstance(expr, Comparison):
        return Comparison(expr.key, expr.op, expr.value)
    if isinstance(expr, And):
        return And(tuple(_strip(i) for i in expr.items))  # type: ignore[misc]
    if isinstance(expr, Or):
        return Or(tuple(_strip(i) for i in expr.items))  # type: ignore[misc]
    return expr


A, B, C, D = _c(M, 1.0), _c(P, "p"), _c(T, "t"), _c(M, 2.0)


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("metrics.m = 1", A),
        ("(metrics.m = 1)", A),
        ("(((metrics.m = 1)))", A),
        ("metrics.m = 1 AND params.p = 'p'", And((A, B))),
        ("metrics.m = 1 and params.p = 'p' And tags.t = 't'", And((A, B, C))),
        ("metrics.m = 1 OR params.p = 'p' or tags.t = 't'", Or((A, B, C))),
        ("metrics.m = 1 AND params.p = 'p' OR tags.t = 't'", Or((And((A, B)), C))),
        ("metrics.m = 1 OR params.p = 'p' AND tags.t = 't'", Or((A, And((B, C))))),
        ("metrics.m = 1 AND (params.p = 'p' OR tags.t = 't')", And((A, Or((B, C))))),
        ("(metrics.m = 1 AND params.p = 'p') AND tags.t = 't'", And((A, B, C))),
        ("metrics.m = 1 AND (params.p = 'p' AND tags.t = 't')", And((A, B, C))),
        ("(metrics.m = 1 OR params.p = 'p') OR (tags.t = 't' OR metrics.m = 2)", Or((A, B, C, D))),
        (
            "(metrics.m = 1 OR params.p = 'p') AND (tags.t = 't' OR metrics.m = 2)",
            And((Or((A, B)), Or((C, D)))),
        ),
        ("metrics.m=1 AND(params.p='p')", And((A, B))),
    ],
)
def test_precedence_and_flattening(text: str, tree: Expr) -> None:
    assert _strip(parse_filter(text)) == tree


def test_nesting_limit() -> None:
    ok = "(" * MAX_NESTING + "metrics.m = 1" + ")" * MAX_NESTING
    assert _strip(parse_filter(ok)) == A
    too_deep = "(" * (MAX_NESTING + 1) + "metrics.m = 1" + ")" * (MAX_NESTING + 1)
    error = _error(too_deep)
    assert "nest deeper than 50" in str(error)
    assert error.position == MAX_NESTING


def test_length_limit() -> None:
    clause = "metrics.m = 1"
    text = " AND ".join([clause] * 1000)
    assert len(text) < MAX_FILTER_LENGTH
    result = parse_filter(text)
    assert isinstance(result, And)
    assert len(result.items) == 1000
    too_long = text + " " * (MAX_FILTER_LENGTH - len(text) + 1)
    assert "too long: 20001 characters, the limit is 20000" in str(_error(too_long))


# -- errors --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("metrics.rmse", "expected a comparison operator after 'metrics.rmse', got end of input", 12),
        ("metrics.rmse 0.5", "expected a comparison operator after 'metrics.rmse', got '0.5'", 13),
        ("metrics.rmse <", "expected a value after 'metrics.rmse <', got end of input", 14),
        ("metrics.rmse < 'abc'", "invalid metric value 'abc': metrics compare with numbers", 15),
        ("metrics.rmse < abc", "invalid metric value 'abc': metrics compare with numbers", 15),
        ("metrics.rmse = '0.5'", "invalid metric value '0.5'", 15),
        ("params.lr = 0.1", "params compare with quoted strings; write '0.1'", 12),
        ("tags.x != 5", "tags compare with quoted strings; write '5'", 10),
        ("status = 5", "attributes compare with quoted strings; write '5'", 9),
        ("datasets.name = 1", "datasets compare with quoted strings", 16),
        ("params.p = abc", "invalid value 'abc' for 'params.p': expected a quoted string", 11),
        ("start_time > 1.5", "start_time compares with an integer", 13),
        ("start_time > '1'", "start_time compares with an integer", 13),
        ("created > 1e3", "start_time compares with an integer", 10),
        ("end_time < 99999999999999999999", "is out of range", 11),
        ("end_time < 9223372036854775808", "is out of range", 11),
        ("metrics.m LIKE '1'", "operator 'LIKE' is not valid for 'metrics.m'; use one of =, !=, <", 10),
        ("metrics.m IN ('1')", "operator 'IN' is not valid for 'metrics.m'", 10),
        ("params.p < 'a'", "operator '<' is not valid for 'params.p'; use one of =, !=, LIKE", 9),
        ("tags.t >= 'a'", "operator '>=' is not valid for 'tags.t'", 7),
        ("start_time LIKE '1'", "operator 'LIKE' is not valid for 'start_time'", 11),
        ("status IS NULL", "operator 'IS NULL' is not valid for 'status'", 7),
        ("datasets.name > 'a'", "operator '>' is not valid for 'datasets.name'", 14),
        ("tags.t NOT LIKE 'a'", "expected IN after NOT, got 'LIKE'", 11),
        ("tags.t IS 'a'", "expected NULL or NOT NULL after IS, got 'a'", 10),
        ("tags.t IS NOT 'a'", "expected NULL after IS NOT, got 'a'", 14),
        ("tags.t IN 'a'", "expected '(' after 'tags.t IN', got 'a'", 10),
        ("tags.t IN ()", "the IN list needs at least one value", 11),
        ("tags.t NOT IN ()", "the NOT IN list needs at least one value", 15),
        ("tags.t IN ('a',)", "expected a quoted string in the IN list, got ')'", 15),
        ("tags.t IN ('a' 'b')", "expected ',' or ')' in the IN list, got 'b'", 15),
        ("tags.t IN ('a'", "expected ',' or ')' in the IN list, got end of input", 14),
        ("tags.t IN (1, 2)", "expected a quoted string in the IN list, got '1'", 11),
        ("metrics.m = 1)", "unexpected ')'", 13),
        (")", "unexpected ')'", 0),
        ("()", "unexpected ')'", 1),
        ("(metrics.m = 1", "expected ')' to close the '(' at position 0, got end of input", 14),
        ("metrics.m = 1 AND", "expected a key such as metrics.rmse or params.lr, got end of input", 17),
        ("AND metrics.m = 1", "expected a key such as metrics.rmse or params.lr, got 'AND'", 0),
        ("metrics.m = 1 OR OR metrics.m = 2", "expected a key such as metrics.rmse", 17),
        ("'metrics.m' = 1", "expected a key such as metrics.rmse or params.lr, got 'metrics.m'", 0),
        ("1 = 1", "expected a key such as metrics.rmse or params.lr, got '1'", 0),
        (
            "metrics.m = 1 metrics.n = 2",
            "unexpected 'metrics.n': expected AND, OR or the end of the filter",
            14,
        ),
        ("metrics.m = 1, metrics.n = 2", "unexpected ','", 13),
        ("NOT metrics.m = 1", "NOT is only supported in NOT IN and IS NOT NULL", 0),
        (
            "foo = 'x'",
            "unknown key 'foo': use metrics.<name>, params.<name>, tags.<name>, datasets.<name>",
            0,
        ),
        ("rmse < 1", "unknown key 'rmse'", 0),
        ("Status = 'x'", "unknown key 'Status'", 0),
        ("tags = 'x'", "'tags' needs a key name, as in tags.<name>", 0),
        ("`metrics` > 1", "'metrics' needs a key name", 0),
        ("foo.bar = 'x'", "unknown key prefix 'foo' in 'foo.bar'; valid prefixes: metrics., params.", 0),
        ("`foo.bar` = 'x'", "unknown key 'foo.bar'", 0),
        ("attributes.foo = 'x'", "unknown attribute 'foo'; valid attributes: artifact_uri, end_time", 0),
        ("attributes.`Run  name` = 'x'", "unknown attribute 'Run  name'", 0),
        ("datasets.size = 'x'", "unknown dataset key 'size'; valid keys: context, digest, name", 0),
        ("tags.x = 'abc", "unterminated string", 9),
        ("a = 1 ; b", "unexpected character ';'", 6),
    ],
)
def test_filter_errors(text: str, message: str, position: int) -> None:
    error = _error(text)
    assert message in str(error)
    assert error.position == position
    assert str(error).endswith(f"at position {position} in {text!r}")
    assert isinstance(error, InvalidParameterValue)
    assert error.http_status == 400


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.m > 1", "metrics keys are not supported in filters for experiments"),
        ("params.p = 'x'", "params keys are not supported in filters for experiments"),
        ("datasets.name = 'x'", "datasets keys are not supported in filters for experiments"),
        ("start_time > 1", "unknown key 'start_time': use tags.<name> or an attribute (creation_time"),
        ("attributes.status = 'x'", "unknown attribute 'status'; valid attributes: creation_time"),
        ("creation_time > 'x'", "creation_time compares with an integer"),
        ("name > 'x'", "operator '>' is not valid for 'name'"),
        ("experiment_id = 1", "attributes compare with quoted strings; write '1'"),
    ],
)
def test_experiment_filter_errors(text: str, message: str) -> None:
    error = _error(text, "experiment")
    assert message in str(error)
    assert error.position is not None


def test_unknown_entity_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="entity must be"):
        parse_filter("a = 1", "model")  # type: ignore[arg-type]


# -- order_by ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("metrics.rmse", OrderBy(Key("metric", "rmse"), True)),
        ("metrics.rmse DESC", OrderBy(Key("metric", "rmse"), False)),
        ("metrics.rmse desc", OrderBy(Key("metric", "rmse"), False)),
        ("metrics.rmse ASC", OrderBy(Key("metric", "rmse"), True)),
        ("  metric.rmse   Asc  ", OrderBy(Key("metric", "rmse"), True)),
        ("params.lr ASC", OrderBy(Key("param", "lr"), True)),
        ("tags.`a b` desc", OrderBy(Key("tag", "a b"), False)),
        ('tags."a b" DESC', OrderBy(Key("tag", "a b"), False)),
        ("`metrics.my metric` DESC", OrderBy(Key("metric", "my metric"), False)),
        ('"metrics.my metric" DESC', OrderBy(Key("metric", "my metric"), False)),
        ("attributes.start_time", OrderBy(Key("attribute", "start_time"), True)),
        ("start_time DESC", OrderBy(Key("attribute", "start_time"), False)),
        ("created", OrderBy(Key("attribute", "start_time"), True)),
        ("`Run name`", OrderBy(Key("attribute", "run_name"), True)),
        ("attr.status", OrderBy(Key("attribute", "status"), True)),
        ("run_id", OrderBy(Key("attribute", "run_id"), True)),
        ("tags.mlflow.runName", OrderBy(Key("tag", "mlflow.runName"), True)),
        ("metrics.desc", OrderBy(Key("metric", "desc"), True)),
    ],
)
def test_order_by(clause: str, expected: OrderBy) -> None:
    assert parse_order_by([clause]) == [expected]


@pytest.mark.parametrize("clauses", [None, [], ()])
def test_order_by_empty(clauses: list[str] | None) -> None:
    assert parse_order_by(clauses) == []


def test_order_by_keeps_clause_order() -> None:
    assert parse_order_by(["metrics.a DESC", "params.b", "start_time ASC"]) == [
        OrderBy(Key("metric", "a"), False),
        OrderBy(Key("param", "b"), True),
        OrderBy(Key("attribute", "start_time"), True),
    ]


def test_order_by_single_string_is_one_clause() -> None:
    assert parse_order_by("metrics.a DESC") == [OrderBy(Key("metric", "a"), False)]


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("name", OrderBy(Key("attribute", "name"), True)),
        ("name DESC", OrderBy(Key("attribute", "name"), False)),
        ("attributes.experiment_id", OrderBy(Key("attribute", "experiment_id"), True)),
        ("creation_time desc", OrderBy(Key("attribute", "creation_time"), False)),
        ("last_update_time", OrderBy(Key("attribute", "last_update_time"), True)),
    ],
)
def test_experiment_order_by(clause: str, expected: OrderBy) -> None:
    assert parse_order_by([clause], "experiment") == [expected]


@pytest.mark.parametrize(
    ("clause", "entity", "message", "position"),
    [
        ("metrics.a, metrics.b", "run", "each order_by clause takes one key", 9),
        ("metrics.a DESC, metrics.b", "run", "each order_by clause takes one key", 14),
        ("metrics.a up", "run", "unexpected 'up' after 'metrics.a': expected ASC or DESC", 10),
        ("metrics.a DESC ASC", "run", "unexpected 'ASC' after 'metrics.a': expected ASC or DESC", 15),
        ("metrics.a = 1", "run", "unexpected '=' after 'metrics.a'", 10),
        ("DESC", "run", "unknown key 'DESC'", 0),
        ("'metrics.a'", "run", "expected a key such as metrics.rmse, got 'metrics.a'", 0),
        ("(metrics.a)", "run", "expected a key such as metrics.rmse, got '('", 0),
        ("datasets.name", "run", "datasets keys are not supported in order_by for runs", 0),
        ("foo", "run", "unknown key 'foo'", 0),
        ("attributes.foo", "run", "unknown attribute 'foo'", 0),
        ("tags.a", "experiment", "tags keys are not supported in order_by for experiments", 0),
        ("metrics.a", "experiment", "metrics keys are not supported in order_by for experiments", 0),
        ("start_time", "experiment", "unknown key 'start_time': use an attribute (creation_time", 0),
        ("tags.`a", "run", "unterminated backquoted name", 5),
    ],
)
def test_order_by_errors(clause: str, entity: str, message: str, position: int) -> None:
    with pytest.raises(SearchSyntaxError) as info:
        parse_order_by([clause], entity)  # type: ignore[arg-type]
    assert message in str(info.value)
    assert info.value.position == position
    assert str(info.value).endswith(f"at position {position} in {clause!r}")


@pytest.mark.parametrize("clause", ["", "   "])
def test_order_by_blank_clause(clause: str) -> None:
    with pytest.raises(SearchSyntaxError, match="empty order_by clause"):
        parse_order_by([clause])


def test_order_by_length_limit() -> None:
    with pytest.raises(SearchSyntaxError, match="order_by clause is too long"):
        parse_order_by(["metrics.a" + " " * MAX_FILTER_LENGTH])


# -- parsed once ---------------------------------------------------------------------------------------------
def test_a_filter_is_parsed_once_per_entity_and_shared() -> None:
    text = "metrics.rmse < 0.5 and params.p1 = 'x'"
    first = parse_filter(text)
    assert parse_filter(text) is first
    # The same text of another entity is parsed by that entity's rules.
    with pytest.raises(SearchSyntaxError, match="metrics"):
        parse_filter(text, "experiment")
    assert parse_filter(text) is first


def test_a_bad_filter_fails_every_time() -> None:
    for _ in range(2):
        with pytest.raises(SearchSyntaxError, match="position"):
            parse_filter("metrics.rmse <")


def test_order_by_shares_the_clauses_but_not_the_list() -> None:
    first = parse_order_by(["metrics.rmse DESC", "params.p"])
    first.append(OrderBy(T))
    again = parse_order_by(["metrics.rmse DESC", "params.p"])
    assert again == [OrderBy(Key("metric", "rmse"), False), OrderBy(P)]
    assert again[0] is first[0]


# -- fuzzing -------------------------------------------------------------------------------------------------
_FRAGMENTS = [
    "metrics.m", "params.p", "tags.t", "attributes.status", "start_time", "created", "datasets.name",
    "name", "`run name`", "tags.`a b`", "metrics.", "`", "'", '"', "'x'", '"y"', "1", "-2.5", "1e3", ".",
    "-", "(", ")", ",", "=", "!=", "<>", "<", "<=", ">", ">=", "==", "AND", "OR", "NOT", "IN", "LIKE",
    "ILIKE", "IS", "NULL", "ASC", "DESC", "\\", "''", "x", " ", "  ",
]  # fmt: skip


def _check_fuzz(text: str) -> None:
    entities: tuple[Entity, ...] = ("run", "experiment")
    for entity in entities:
        with contextlib.suppress(SearchSyntaxError):
            parse_filter(text, entity)
        with contextlib.suppress(SearchSyntaxError):
            parse_order_by([text], entity)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_random_text_only_raises_search_syntax_error(text: str) -> None:
    _check_fuzz(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=25).map(" ".join))
def test_random_token_soup_only_raises_search_syntax_error(text: str) -> None:
    _check_fuzz(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=25).map("".join))
def test_random_glued_fragments_only_raise_search_syntax_error(text: str) -> None:
    _check_fuzz(text)
