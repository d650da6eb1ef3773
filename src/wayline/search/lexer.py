"""Tokenizer of the search language; every token keeps its 0-based offset in the text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, TypeAlias

from wayline.errors import SearchSyntaxError

TokenKind: TypeAlias = Literal[
    "ident", "string", "number", "op", "keyword", "lparen", "rparen", "comma", "eof"
]

#: Reserved words, matched case-insensitively; the token's ``value`` is upper-cased.
KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS", "NULL"})

#: Comparison operators as written -> canonical (``<>`` is ``!=``).
OPERATORS = {"=": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_OPERATOR_CHARS = "<>=!"
_PUNCTUATION: dict[str, TokenKind] = {"(": "lparen", ")": "rparen", ",": "comma"}


@dataclass(frozen=True)
class Token:
    """One token.

    ``value`` is the upper-cased keyword, the canonical operator, the unescaped string or the number's
    text. Identifiers carry their dot-separated ``parts`` and, per part, whether it was quoted.
    """

    kind: TokenKind
    text: str
    position: int
    value: str = ""
    parts: tuple[str, ...] = ()
    quoted: tuple[bool, ...] = ()


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _starts_word(ch: str) -> bool:
    return ch.isalpha() or ch == "_"


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[Token] = []

    def error(self, message: str, position: int) -> SearchSyntaxError:
        return SearchSyntaxError(message, text=self.text, position=position)

    def run(self) -> list[Token]:
        text, i = self.text, 0
        while i < len(text):
            ch = text[i]
            if ch.isspace():
                i += 1
            elif ch in _PUNCTUATION:
                self.tokens.append(Token(_PUNCTUATION[ch], ch, i))
                i += 1
            elif ch in "'\"":
                value, end = self.quoted(i, backslash=True)
                self.tokens.append(Token("string", text[i:end], i, value))
                i = end
            elif ch == "`" or _starts_word(ch):
                i = self.identifier(i)
            elif ch.isascii() and (ch.isdigit() or (ch in "-." and _NUMBER.match(text, i))):
                i = self.number(i)
            elif ch in _OPERATOR_CHARS:
                end = i
                while end < len(text) and text[end] in _OPERATOR_CHARS:
                    end += 1
                op = text[i:end]
                if op not in OPERATORS:
                    raise self.error(f"unknown operator '{op}'", i)
                self.tokens.append(Token("op", op, i, OPERATORS[op]))
                i = end
            else:
                shown = ch if ch.isprintable() else repr(ch)[1:-1]
                raise self.error(f"unexpected character '{shown}'{_hint(text, i)}", i)
        self.tokens.append(Token("eof", "", len(text)))
        return self.tokens

    def quoted(self, start: int, *, backslash: bool) -> tuple[str, int]:
        """Scan a quoted run opening at ``start``; returns (unescaped content, end offset).

        The quote character is escaped by doubling it; strings also accept ``\\'``, ``\\"`` and ``\\\\``.
        Any other backslash stays as written (so LIKE patterns keep theirs).
        """
        text, quote = self.text, self.text[start]
        out: list[str] = []
        i = start + 1
        while i < len(text):
            ch = text[i]
            if ch == quote:
                if text[i + 1 : i + 2] == quote:
                    out.append(quote)
                    i += 2
                    continue
                return "".join(out), i + 1
            if backslash and ch == "\\" and text[i + 1 : i + 2] in (quote, "\\"):
                out.append(text[i + 1])
                i += 2
                continue
            out.append(ch)
            i += 1
        what = "backquoted name" if quote == "`" else "string"
        raise self.error(f"unterminated {what}", start)

    def identifier(self, start: int) -> int:
        """Scan ``part(.part)*``; a part is a word or a backquoted name, or after a dot a quoted name."""
        text, i = self.text, start
        parts: list[str] = []
        quoted: list[bool] = []
        while True:
            ch = text[i : i + 1]
            if ch == "`" or (parts and ch in ("'", '"')):
                part_start = i
                value, i = self.quoted(i, backslash=ch != "`")
                if not value:
                    raise self.error("empty key name in quotes", part_start)
                parts.append(value)
                quoted.append(True)
            elif ch and _is_word_char(ch):
                end = i
                while end < len(text) and _is_word_char(text[end]):
                    end += 1
                parts.append(text[i:end])
                quoted.append(False)
                i = end
            else:
                raise self.error(f"expected a key name after '{text[start:i]}'", i)
            if text[i : i + 1] != ".":
                break
            i += 1
        raw = text[start:i]
        if len(parts) == 1 and not quoted[0] and raw.upper() in KEYWORDS:
            self.tokens.append(Token("keyword", raw, start, raw.upper()))
        else:
            self.tokens.append(Token("ident", raw, start, raw, tuple(parts), tuple(quoted)))
        return i

    def number(self, start: int) -> int:
        match = _NUMBER.match(self.text, start)
        end = match.end() if match else start + 1
        if end < len(self.text) and (_is_word_char(self.text[end]) or self.text[end] in ".`'\""):
            while end < len(self.text) and (_is_word_char(self.text[end]) or self.text[end] == "."):
                end += 1
            raise self.error(f"invalid number '{self.text[start:end]}'", start)
        self.tokens.append(Token("number", self.text[start:end], start, self.text[start:end]))
        return end


def _hint(text: str, i: int) -> str:
    if text[i] == "-" and i > 0 and _is_word_char(text[i - 1]):
        return "; quote key names that contain '-', as in metrics.`my-metric`"
    if text[i] in "&|":
        return "; use AND / OR"
    return ""


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens ending with one ``eof`` token; raises :class:`SearchSyntaxError`."""
    return _Lexer(text).run()


__all__ = ["KEYWORDS", "OPERATORS", "Token", "TokenKind", "tokenize"]
