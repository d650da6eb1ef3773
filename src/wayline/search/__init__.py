"""Wayline search language: filters and order-by clauses parsed to an AST."""

from wayline.search.ast import And, Comparison, Expr, Key, KeyKind, Operator, Or, OrderBy, Value
from wayline.search.parser import MAX_FILTER_LENGTH, MAX_NESTING, Entity, parse_filter, parse_order_by

__all__ = [
    "MAX_FILTER_LENGTH",
    "MAX_NESTING",
    "And",
    "Comparison",
    "Entity",
    "Expr",
    "Key",
    "KeyKind",
    "Operator",
    "Or",
    "OrderBy",
    "Value",
    "parse_filter",
    "parse_order_by",
]
