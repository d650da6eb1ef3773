"""The search-language tokenizer: kinds, values, offsets and lexical errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from wayline.errors import SearchSyntaxError
from wayline.search.lexer import KEYWORDS, Token, tokenize


def _kinds(text: str) -> list[tuple[str, str, int]]:
    return [(tok.kind, tok.value, tok.position) for tok in tokenize(text)]


def test_tokens_keep_offsets() -> None:
    assert _kinds("metrics.rmse <= 0.5 AND (tags.x IN ('a', 'b'))") == [
        ("ident", "metrics.rmse", 0),
        ("op", "<=", 13),
        ("number", "0.5", 16),
        ("keyword", "AND", 20),
        ("lparen", "", 24),
        ("ident", "tags.x", 25),
        ("keyword", "IN", 32),
        ("lparen", "", 35),
        ("string", "a", 36),
        ("comma", "", 39),
        ("string", "b", 41),
        ("rparen", "", 44),
        ("rparen", "", 45),
        ("eof", "", 46),
    ]


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_blank_text_is_only_eof(text: str) -> None:
    assert tokenize(text) == [Token("eof", "", len(text))]


@pytest.mark.parametrize(
    ("text", "parts", "quoted"),
    [
        ("status", ("status",), (False,)),
        ("_x1", ("_x1",), (False,)),
        ("metrics.rmse", ("metrics", "rmse"), (False, False)),
        ("tags.mlflow.runName", ("tags", "mlflow", "runName"), (False, False, False)),
        ("metrics.2019_err", ("metrics", "2019_err"), (False, False)),
        ("metrics.`my metric`", ("metrics", "my metric"), (False, True)),
        ("`metrics`.`my metric`", ("metrics", "my metric"), (True, True)),
        ("`metrics.my metric`", ("metrics.my metric",), (True,)),
        ("`run name`", ("run name",), (True,)),
        ("tags.`a``b`", ("tags", "a`b"), (False, True)),
        ('params."model-type"', ("params", "model-type"), (False, True)),
        ("metrics.'p acc'", ("metrics", "p acc"), (False, True)),
        ('tags."it""s"', ("tags", 'it"s'), (False, True)),
        ("tags.`a.b`.c", ("tags", "a.b", "c"), (False, True, False)),
        ("metrics.准确率", ("metrics", "准确率"), (False, False)),
        ("`in`", ("in",), (True,)),
        ("tags.and", ("tags", "and"), (False, False)),
    ],
)
def test_identifiers(text: str, parts: tuple[str, ...], quoted: tuple[bool, ...]) -> None:
    tok, eof = tokenize(text)
    assert (tok.kind, tok.text, tok.position, tok.parts, tok.quoted) == ("ident", text, 0, parts, quoted)
    assert eof.kind == "eof"


@pytest.mark.parametrize("word", sorted(KEYWORDS))
@pytest.mark.parametrize("spell", [str.upper, str.lower, str.title])
def test_keywords_are_case_insensitive(word: str, spell: Callable[[str], str]) -> None:
    text = spell(word)
    assert tokenize(text)[0] == Token("keyword", text, 0, word)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("'abc'", "abc"),
        ('"abc"', "abc"),
        ("''", ""),
        ("'it''s'", "it's"),
        ("'it\\'s'", "it's"),
        ('"say ""hi"""', 'say "hi"'),
        ('"say \\"hi\\""', 'say "hi"'),
        ("'a\"b'", 'a"b'),
        ('"a\'b"', "a'b"),
        ("'C:\\\\'", "C:\\"),
        ("'a\\_b%'", "a\\_b%"),
        ("'100%'", "100%"),
        ("'é ✓'", "é ✓"),
    ],
)
def test_strings(text: str, value: str) -> None:
    tok = tokenize(text)[0]
    assert (tok.kind, tok.value, tok.text) == ("string", value, text)


@pytest.mark.parametrize(
    "text", ["0", "42", "-7", "0.5", "-0.5", ".5", "-.5", "1.", "1e3", "1E-3", "-2.5e+10", "007"]
)
def test_numbers(text: str) -> None:
    tok = tokenize(text)[0]
    assert (tok.kind, tok.value, tok.position) == ("number", text, 0)


@pytest.mark.parametrize(
    ("text", "value"),
    [("=", "="), ("!=", "!="), ("<>", "!="), ("<", "<"), ("<=", "<="), (">", ">"), (">=", ">=")],
)
def test_operators(text: str, value: str) -> None:
    assert tokenize(f"a {text} 1")[1] == Token("op", text, 2, value)


def test_operators_without_spaces() -> None:
    assert [t.kind for t in tokenize("metrics.a>=-1")] == ["ident", "op", "number", "eof"]
    assert [t.value for t in tokenize("a<>'x'")] == ["a", "!=", "x", ""]


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("'abc", "unterminated string", 0),
        ('tags.x = "abc', "unterminated string", 9),
        ("'abc\\'", "unterminated string", 0),
        ("tags.`abc", "unterminated backquoted name", 5),
        ("tags.``", "empty key name in quotes", 5),
        ("tags.", "expected a key name after 'tags.'", 5),
        ("tags..x", "expected a key name after 'tags.'", 5),
        ("tags.x.", "expected a key name after 'tags.x.'", 7),
        ("a == 1", "unknown operator '=='", 2),
        ("a =! 1", "unknown operator '=!'", 2),
        ("a ! 1", "unknown operator '!'", 2),
        ("a = 1;", "unexpected character ';'", 5),
        ("a = 1 && b = 2", "unexpected character '&'; use AND / OR", 6),
        ("a = 1 || b = 2", "unexpected character '|'; use AND / OR", 6),
        ("metrics.my-metric", "quote key names that contain '-'", 10),
        ("a = - 1", "unexpected character '-'", 4),
        ("a = +1", "unexpected character '+'", 4),
        ("a = 1abc", "invalid number '1abc'", 4),
        ("a = 1.2.3", "invalid number '1.2.3'", 4),
        ("a = 1e", "invalid number '1e'", 4),
        ("a = 1'x'", "invalid number '1'", 4),
        ("a = ²", "unexpected character '²'", 4),
        ("a = \x00", "unexpected character '\\x00'", 4),
    ],
)
def test_lexical_errors(text: str, message: str, position: int) -> None:
    with pytest.raises(SearchSyntaxError) as info:
        tokenize(text)
    assert info.value.position == position
    assert message in str(info.value)
    assert f"at position {position} in {text!r}" in str(info.value)
