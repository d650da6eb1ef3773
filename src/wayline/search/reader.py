"""Reading a filter's tokens: the cursor, the error positions and the pieces every filter grammar shares.

The run, experiment and logged-model filters (:mod:`wayline.search.parser`) and the model registry's
(:mod:`wayline.store.sql.registry_filter`) are different grammars over the same tokens; each parser is a
:class:`TokenReader`.
"""

from __future__ import annotations

from wayline.errors import SearchSyntaxError
from wayline.search.ast import Operator
from wayline.search.lexer import Token, tokenize


def describe(tok: Token) -> str:
    """How a token is named in error messages."""
    if tok.kind == "eof":
        return "end of input"
    return tok.text if tok.kind == "string" else f"'{tok.text}'"


class TokenReader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    def error(self, message: str, tok: Token) -> SearchSyntaxError:
        return SearchSyntaxError(message, text=self.text, position=tok.position)

    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        tok = self.tokens[self.index]
        if tok.kind != "eof":
            self.index += 1
        return tok

    def keyword(self, tok: Token, *words: str) -> bool:
        return tok.kind == "keyword" and tok.value in words

    def in_list(self, key_tok: Token, op: Operator) -> tuple[str, ...]:
        """``('a', 'b', ...)`` after ``key IN`` / ``key NOT IN``: at least one quoted string."""
        tok = self.advance()
        if tok.kind != "lparen":
            raise self.error(f"expected '(' after '{key_tok.text} {op}', got {describe(tok)}", tok)
        if self.peek().kind == "rparen":
            raise self.error(f"the {op} list needs at least one value", self.peek())
        values: list[str] = []
        while True:
            item = self.advance()
            if item.kind != "string":
                raise self.error(f"expected a quoted string in the {op} list, got {describe(item)}", item)
            values.append(item.value)
            sep = self.advance()
            if sep.kind == "rparen":
                return tuple(values)
            if sep.kind != "comma":
                raise self.error(f"expected ',' or ')' in the {op} list, got {describe(sep)}", sep)
