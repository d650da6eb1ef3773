"""safe_relative_path: every spelling from SECURITY.md section 1 is refused; plain names pass normalized."""

from __future__ import annotations

import pytest

from wayline.artifacts import safe_relative_path
from wayline.artifacts.path import MAX_ARTIFACT_PATH_LENGTH, uri_scheme
from wayline.errors import ErrorCode, InvalidParameterValue

#: Every bad spelling of an artifact path; shared with the repository tests.
BAD_PATHS: list[str] = [
    # traversal
    "..",
    "../x",
    "../../etc/passwd",
    "a/../../x",
    "a/..",
    "./../x",
    "..\\x",
    "a\\..\\..\\x",
    "..\\..\\windows\\win.ini",
    # percent-encoded, once and more
    "%2e%2e%2fx",
    "%2E%2E%2Fx",
    "%2e%2e/x",
    "..%2fx",
    "..%5cx",
    "a/%2e%2e/%2e%2e/x",
    "%252e%252e%252fx",
    "%25252e%25252e%25252fx",
    "%2525252525252e%2525252525252e",
    "%2fetc%2fpasswd",
    # absolute
    "/etc/passwd",
    "//proc/self/environ",
    "/",
    "\\\\server\\share\\x",
    "\\x",
    # drive letters and schemes
    "C:/Windows/win.ini",
    "C:\\Windows\\win.ini",
    "c:x",
    "./C:/x",
    "file:///etc/passwd",
    "file:x",
    "file://./x",
    "file:/etc/passwd",
    "http:///?/../../",
    "https://evil.example/x",
    "runs:/0123456789abcdef/artifacts",
    "models:/m/1",
    "models:/m@prod",
    "s3://bucket/key",
    "%66ile:%2f%2f%2fetc",
    # path parameters, queries, fragments
    "a;b",
    "a/b;type=d",
    "a?b",
    "?x",
    "a#b",
    "#",
    "a%3bb",
    "a%3fb",
    "a%23b",
    # NUL, control and bidirectional characters
    "x\x00y",
    "x%00y",
    "x%2500y",
    "x\ny",
    "x%0ay",
    "x\ty",
    "x\ry",
    "\x7f",
    "\x85",
    "a\u202etxt.exe",
    "a\u2028b",
    "\ud800",
    # Unicode look-alikes that fold to traversal
    "\uff0e\uff0e/x",
    "a\uff0f\uff0e\uff0e\uff0fb",
    # too long
    "a" * (MAX_ARTIFACT_PATH_LENGTH + 1),
]


@pytest.mark.parametrize("bad", BAD_PATHS)
def test_bad_paths_are_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        safe_relative_path(bad, field="artifact_path")
    assert info.value.error_code is ErrorCode.INVALID_PARAMETER_VALUE
    assert info.value.message.startswith("Invalid value ")
    assert "for parameter 'artifact_path': " in info.value.message


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, ""),
        ("", ""),
        (".", ""),
        ("./", ""),
        ("./.", ""),
        ("a", "a"),
        ("a/b.txt", "a/b.txt"),
        ("./a//b/", "a/b"),
        ("a/./b", "a/b"),
        ("a\\b", "a/b"),
        ("model.v1.pkl", "model.v1.pkl"),
        ("..foo", "..foo"),
        ("foo..", "foo.."),
        ("...", "..."),
        (".hidden", ".hidden"),
        ("my file.txt", "my file.txt"),
        ("données/模型.bin", "données/模型.bin"),
        ("emoji/🙂.png", "emoji/🙂.png"),
        ("dir/a:b", "dir/a:b"),
        ("a+b=c,d@e", "a+b=c,d@e"),
        ("100%", "100%"),
        ("a%20b", "a%20b"),
        ("%2e", "%2e"),
        ("a" * MAX_ARTIFACT_PATH_LENGTH, "a" * MAX_ARTIFACT_PATH_LENGTH),
    ],
)
def test_good_paths_are_normalized(given: str | None, expected: str) -> None:
    assert safe_relative_path(given) == expected


def test_percent_sequences_stay_literal() -> None:
    # A name is stored as given; decoding is only for validation.
    assert safe_relative_path("plots/loss%2Fval.png") == "plots/loss%2Fval.png"


def test_default_field_is_path() -> None:
    with pytest.raises(InvalidParameterValue, match=r"for parameter 'path': must not contain '\.\.'"):
        safe_relative_path("../x")


def test_message_shows_the_value_and_the_reason() -> None:
    with pytest.raises(InvalidParameterValue) as info:
        safe_relative_path("%252e%252e%252fsecret", field="artifact_path")
    assert info.value.message == (
        "Invalid value '%252e%252e%252fsecret' for parameter 'artifact_path': must not contain '..' segments"
    )


def test_long_values_are_shortened_in_messages() -> None:
    with pytest.raises(InvalidParameterValue) as info:
        safe_relative_path("../" + "a" * 10_000, field="artifact_path")
    assert len(info.value.message) < 250


@pytest.mark.parametrize("value", [b"a/b", 3, ["a"]])
def test_non_strings_are_refused(value: object) -> None:
    with pytest.raises(InvalidParameterValue, match="must be a string"):
        safe_relative_path(value, field="artifact_path")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("uri", "scheme"),
    [
        ("/srv/artifacts", ""),
        ("relative/dir", ""),
        ("file:///srv/artifacts", "file"),
        ("FILE:///srv", "file"),
        ("s3://bucket/prefix", "s3"),
        ("runs:/abc/model", "runs"),
    ],
)
def test_uri_scheme(uri: str, scheme: str) -> None:
    assert uri_scheme(uri) == scheme


@pytest.mark.parametrize(
    "uri", ["", " file:///x", "file:///x\n", "fi\tle:///etc", "file:///a\x00b", "http://[::1"]
)
def test_uri_scheme_refuses_text_parsers_would_rewrite(uri: str) -> None:
    with pytest.raises(InvalidParameterValue, match="for parameter 'artifact_uri'"):
        uri_scheme(uri)
