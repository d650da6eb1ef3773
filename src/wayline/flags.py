"""How a yes/no setting is spelled in the environment: ``1``, ``true``, ``yes``, ``on`` or opposites."""

from __future__ import annotations

from wayline.errors import invalid_value

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})


def is_true(text: str | None) -> bool:
    """True for a yes (any case, spaces ignored); anything else, unset included, is no."""
    return (text or "").strip().lower() in TRUE_WORDS


def parse_flag(text: str, *, field: str) -> bool:
    """A yes or a no (empty is no); anything else is INVALID_PARAMETER_VALUE naming ``field``."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise invalid_value(field, text, "must be true or false")
