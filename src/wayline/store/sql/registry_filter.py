"""The filter language of the registry searches: comparisons joined with AND (MLflow's subset).

Registered models::

    name = 'churn'   name LIKE 'churn%'   name IN ('a', 'b')   tags.team = 'ml'   tags.`my key` ILIKE '%x%'

Model versions: ``name``, ``version_number`` (an integer, ``=`` ``!=`` ``<`` ``<=`` ``>`` ``>=``), ``run_id``,
``source_path``, ``current_stage`` (any case; ``=``, ``!=``, ``IN``, ``NOT IN``) and ``tags.<key>``.

The run search's lexer does the tokenizing (quoting rules, backquoted keys, positions); this parser accepts
only ``AND`` (no ``OR``, parentheses or ``IS NULL``, which MLflow's registry does not have either) and checks
each attribute's operators and value type, answering :class:`~wayline.errors.SearchSyntaxError` (an
``INVALID_PARAMETER_VALUE``) with the position of the problem. The result is a list of
:class:`~wayline.search.ast.Comparison` (keys of kind ``attribute`` or ``tag``), all of which must hold.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from wayline.entities.registry import Stage
from wayline.errors import SearchSyntaxError, WaylineError
from wayline.search import MAX_FILTER_LENGTH, Comparison, Key, Operator
from wayline.search.lexer import Token
from wayline.search.reader import TokenReader, describe

RegistryEntity: TypeAlias = Literal["registered_model", "model_version"]

_STRING_OPS: tuple[Operator, ...] = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
_PATTERN_OPS: tuple[Operator, ...] = ("=", "!=", "LIKE", "ILIKE")
_NUMERIC_OPS: tuple[Operator, ...] = ("=", "!=", "<", "<=", ">", ">=")
_SET_OPS: tuple[Operator, ...] = ("=", "!=", "IN", "NOT IN")
_TAG_OPS = _PATTERN_OPS
#: The lexer's canonical comparison operators.
_COMPARISON_OPS: dict[str, Operator] = {op: op for op in _NUMERIC_OPS}

#: Filterable attributes and their operators, per entity.
ATTRIBUTES: dict[RegistryEntity, dict[str, tuple[Operator, ...]]] = {
    "registered_model": {"name": _STRING_OPS},
    "model_version": {
        "name": _STRING_OPS,
        "version_number": _NUMERIC_OPS,
        "run_id": _STRING_OPS,
        "source_path": _PATTERN_OPS,
        "current_stage": _SET_OPS,
    },
}
NUMERIC_ATTRIBUTES = frozenset({"version_number"})
_TAG_PREFIXES = frozenset({"tags", "tag"})
_ATTRIBUTE_PREFIXES = frozenset({"attributes", "attribute", "attr"})
_INT32_MAX = 2**31 - 1


class _Parser(TokenReader):
    def __init__(self, text: str, entity: RegistryEntity) -> None:
        super().__init__(text)
        self.entity = entity
        self.attributes = ATTRIBUTES[entity]

    def parse(self) -> list[Comparison]:
        comparisons = [self.comparison()]
        while True:
            tok = self.advance()
            if tok.kind == "eof":
                return comparisons
            if self.keyword(tok, "AND"):
                comparisons.append(self.comparison())
            elif self.keyword(tok, "OR"):
                raise self.error("OR is not supported in registry searches; join conditions with AND", tok)
            else:
                raise self.error(f"unexpected {describe(tok)}: expected AND or the end of the filter", tok)

    # -- one comparison --------------------------------------------------------------------------------------
    def comparison(self) -> Comparison:
        key_tok = self.advance()
        if key_tok.kind in ("lparen", "rparen"):
            raise self.error("parentheses are not supported in registry searches", key_tok)
        if key_tok.kind != "ident":
            raise self.error(f"expected a key such as name or tags.<key>, got {describe(key_tok)}", key_tok)
        key = self.key(key_tok)
        op_tok = self.peek()
        op = self.operator(key_tok)
        allowed = _TAG_OPS if key.kind == "tag" else self.attributes[key.name]
        if op not in allowed:
            raise self.error(
                f"operator '{op}' is not valid for '{key_tok.text}'; use one of {', '.join(allowed)}", op_tok
            )
        if op in ("IN", "NOT IN"):
            values = self.in_list(key_tok, op)
            if key.name == "current_stage" and key.kind == "attribute":
                values = tuple(self.stage(value, key_tok) for value in values)
            return Comparison(key, op, values, key_tok.position)
        value_tok = self.advance()
        if key.kind == "attribute" and key.name in NUMERIC_ATTRIBUTES:
            return Comparison(key, op, self.integer(value_tok, key_tok, op), key_tok.position)
        if value_tok.kind != "string":
            raise self.error(
                f"invalid value {describe(value_tok)} for '{key_tok.text}': expected a quoted string",
                value_tok,
            )
        value = value_tok.value
        if key.kind == "attribute" and key.name == "current_stage":
            value = self.stage(value, value_tok)
        return Comparison(key, op, value, key_tok.position)

    def key(self, tok: Token) -> Key:
        parts = tok.parts
        if len(parts) == 1 and tok.quoted[0] and "." in parts[0]:
            head, _, rest = parts[0].partition(".")
            if head.lower() in _TAG_PREFIXES | _ATTRIBUTE_PREFIXES and rest:
                parts = (head, rest)
        if len(parts) > 1 and parts[0].lower() in _TAG_PREFIXES:
            return Key("tag", ".".join(parts[1:]))
        if len(parts) > 1 and parts[0].lower() in _ATTRIBUTE_PREFIXES:
            parts = (".".join(parts[1:]),)
        if len(parts) == 1 and parts[0] in self.attributes:
            return Key("attribute", parts[0])
        if len(parts) == 1 and parts[0].lower() in _TAG_PREFIXES:
            raise self.error(f"'{parts[0]}' needs a key name, as in tags.<key>", tok)
        valid = ", ".join(sorted(self.attributes))
        raise self.error(f"unknown key '{tok.text}': use tags.<key> or an attribute ({valid})", tok)

    def operator(self, key_tok: Token) -> Operator:
        tok = self.advance()
        if tok.kind == "op":
            return _COMPARISON_OPS[tok.value]
        if self.keyword(tok, "LIKE"):
            return "LIKE"
        if self.keyword(tok, "ILIKE"):
            return "ILIKE"
        if self.keyword(tok, "IN"):
            return "IN"
        if self.keyword(tok, "NOT"):
            nxt = self.advance()
            if self.keyword(nxt, "IN"):
                return "NOT IN"
            raise self.error(f"expected IN after NOT, got {describe(nxt)}", nxt)
        if self.keyword(tok, "IS"):
            raise self.error("IS NULL and IS NOT NULL are not supported in registry searches", tok)
        raise self.error(f"expected a comparison operator after '{key_tok.text}', got {describe(tok)}", tok)

    def integer(self, tok: Token, key_tok: Token, op: Operator) -> int:
        """An integer, written as a number or a quoted number (MLflow accepts both)."""
        text = tok.value.strip() if tok.kind in ("number", "string") else ""
        digits = text.removeprefix("-")
        if not (digits.isascii() and digits.isdigit()):
            raise self.error(
                f"invalid value {describe(tok)} for '{key_tok.text} {op}': expected an integer", tok
            )
        value = int(text)
        if abs(value) > _INT32_MAX:
            raise self.error(f"value {describe(tok)} for '{key_tok.text}' is out of range", tok)
        return value

    def stage(self, value: str, tok: Token) -> str:
        try:
            return Stage.parse(value, field="current_stage").value
        except WaylineError:
            allowed = ", ".join(stage.value for stage in Stage)
            raise self.error(
                f"invalid stage {value!r} for 'current_stage': expected one of {allowed}", tok
            ) from None


def parse_registry_filter(text: str | None, entity: RegistryEntity) -> list[Comparison]:
    """The comparisons of a registry filter (all must hold); ``None`` or blank text means none."""
    if text is None or not text.strip():
        return []
    if len(text) > MAX_FILTER_LENGTH:
        raise SearchSyntaxError(
            f"filter is too long: {len(text)} characters, the limit is {MAX_FILTER_LENGTH}"
        )
    return _Parser(text, entity).parse()


__all__ = ["ATTRIBUTES", "NUMERIC_ATTRIBUTES", "RegistryEntity", "parse_registry_filter"]
