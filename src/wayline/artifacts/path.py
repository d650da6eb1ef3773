"""Validation of user-supplied artifact paths and URIs (``shared/SECURITY.md`` section 1).

An artifact path is a relative, ``/``-separated path below an artifact root. :func:`safe_relative_path`
refuses every spelling that could leave the root or be read differently by another layer, and returns the
normalized path. Percent-sequences are literal characters of a name (``a%20b`` is a file called
``a%20b``), but every decoded form is validated too, so a layer that decodes once more (an HTTP framework, a
proxy, an object store) cannot be tricked.
"""

from __future__ import annotations

import os
import unicodedata
from urllib.parse import unquote, urlsplit

from wayline.errors import invalid_value

#: Longest artifact path accepted, in characters.
MAX_ARTIFACT_PATH_LENGTH = 4096
#: How many rounds of percent-decoding are validated; input that still decodes after that is refused.
MAX_PERCENT_DECODES = 4

# Characters that start a path parameter, a query or a fragment in a URL.
_URL_DELIMITERS = frozenset(";?#")
# Control characters, lone surrogates, line/paragraph separators.
_BAD_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
# Bidirectional overrides and isolates: they make a name display as something else.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def safe_relative_path(path: str | None, *, field: str = "path") -> str:
    """Validate ``path`` and return it as a normalized relative posix path (``""`` for the root).

    Backslashes count as separators; ``.`` segments and empty segments are dropped (``./a//b/`` is ``a/b``).
    Raises :class:`InvalidParameterValue` naming ``field`` for ``..`` segments, absolute paths, drive letters
    and URI schemes, ``;``, ``?`` and ``#``, control characters, and anything that turns into one of those
    after percent-decoding (checked after every round) or Unicode NFKC folding.
    """
    if path is None:
        return ""
    if not isinstance(path, str):
        raise invalid_value(field, path, "must be a string")
    if len(path) > MAX_ARTIFACT_PATH_LENGTH:
        raise invalid_value(field, path, f"longer than the limit of {MAX_ARTIFACT_PATH_LENGTH} characters")
    normalized = _checked(path, path, field)
    current = path
    for _ in range(MAX_PERCENT_DECODES):
        decoded = unquote(current)
        if decoded == current:
            return normalized
        _checked(decoded, path, field)
        current = decoded
    raise invalid_value(field, path, "too many levels of percent-encoding")


def safe_file_path(artifact_file: str, *, field: str = "artifact_file") -> str:
    """:func:`safe_relative_path` of a path that must name a file: the artifact root is refused."""
    rel = safe_relative_path(artifact_file, field=field)
    if not rel:
        raise invalid_value(field, artifact_file, "must name a file, not the artifact root")
    return rel


def join_path(base: str, name: str) -> str:
    """Two safe relative paths as one (either may be ``""``, the root)."""
    return f"{base}/{name}" if base and name else base or name


def uri_scheme(uri: str, *, field: str = "artifact_uri") -> str:
    """The lower-case scheme of ``uri``; ``""`` for a plain path (and for a drive letter on Windows).

    Refuses non-strings, empty strings, surrounding whitespace and control characters, which URL parsers
    silently strip or drop (``"fi\\tle:///x"`` parses as a ``file`` URI).
    """
    if not isinstance(uri, str):
        raise invalid_value(field, uri, "must be a string")
    if not uri:
        raise invalid_value(field, uri, "must not be empty")
    if uri != uri.strip():
        raise invalid_value(field, uri, "must not start or end with whitespace")
    if any(unicodedata.category(ch) in _BAD_CATEGORIES for ch in uri):
        raise invalid_value(field, uri, "must not contain control characters")
    try:
        scheme = urlsplit(uri).scheme.lower()
    except ValueError as exc:
        raise invalid_value(field, uri, f"not a valid URI ({exc})") from None
    if len(scheme) == 1 and os.name == "nt":
        return ""
    return scheme


def _checked(candidate: str, original: str, field: str, *, fold: bool = True) -> str:
    """Check one spelling of the path; return its normalized segments joined by ``/``."""
    for ch in candidate:
        if ch in _URL_DELIMITERS:
            raise invalid_value(field, original, f"must not contain {ch!r} (path parameter, query, fragment)")
        if unicodedata.category(ch) in _BAD_CATEGORIES or ch in _BIDI_CONTROLS:
            raise invalid_value(field, original, "must not contain NUL, control or bidirectional characters")
    text = candidate.replace("\\", "/")
    if text.startswith("/"):
        raise invalid_value(field, original, "must be a relative path, not an absolute one")
    segments = [segment for segment in text.split("/") if segment not in ("", ".")]
    if ".." in segments:
        raise invalid_value(field, original, "must not contain '..' segments")
    if segments and ":" in segments[0]:
        raise invalid_value(field, original, "must be a relative path, not a URI or a drive letter")
    if fold:
        folded = unicodedata.normalize("NFKC", candidate)
        if folded != candidate:
            _checked(folded, original, field, fold=False)
    return "/".join(segments)


__all__ = [
    "MAX_ARTIFACT_PATH_LENGTH",
    "MAX_PERCENT_DECODES",
    "invalid_value",
    "join_path",
    "safe_file_path",
    "safe_relative_path",
    "uri_scheme",
]
