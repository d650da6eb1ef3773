"""Input checks of the model registry (MLflow's rules, plus Wayline's limits). Each failure is
InvalidParameterValue naming the field; an empty required value says so as MLflow does
(``Missing value for required parameter 'name'.``).

Limits (documented in ``docs/registry.md``): names 256 characters (no ``/``, ``:`` or ``%``, and not a path
that would resolve to another name), descriptions 65535, tag keys 250 and values 5000, aliases 255 (letters,
digits, ``_`` and ``-``), run links 2048, actors and owners 256, versions 1 to 2^31 - 1.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Mapping, Sequence

from wayline.entities.registry import RegistryOrder, Stage
from wayline.errors import InvalidParameterValue, invalid_value
from wayline.services import validation as v

MAX_NAME_LENGTH = 256
MAX_DESCRIPTION_LENGTH = 65535
MAX_TAG_VALUE_LENGTH = 5000
MAX_TAGS_PER_CALL = 1000
MAX_ALIAS_LENGTH = 255
MAX_RUN_LINK_LENGTH = 2048
MAX_ACTOR_LENGTH = 256
MAX_COMMENT_LENGTH = 65535
MAX_RUN_ID_LENGTH = 32
MAX_VERSION = 2**31 - 1
MAX_ORDER_BY_CLAUSES = 10
#: The alias that ``models:/name@latest`` resolves to the largest version; it cannot be set.
LATEST_ALIAS = "latest"
#: The tag that marks MLflow's prompts (registered models too); MLflow's client appends
#: ``AND tag.`mlflow.prompt.is_prompt` != 'true'`` to every registry search to leave them out.
PROMPT_TAG = "mlflow.prompt.is_prompt"
_PROMPT_EXCLUSION = re.compile(
    r"^(?:(?P<rest>.*?)\s+AND\s+)?tags?\.`mlflow\.prompt\.is_prompt`\s*!=\s*(?:'true'|\"true\")\s*$",
    re.IGNORECASE | re.DOTALL,
)

_ALIAS_RE = re.compile(r"^[\w\-]*$")
_VERSION_ALIAS_RE = re.compile(r"^[vV]\d+$")
#: MLflow refuses ``/`` and ``:``; Wayline also ``%``, so that two names never differ only by URL-encoding.
_NAME_FORBIDDEN = ("/", ":", "%")
#: Order-by columns of each search; ``timestamp`` is MLflow's spelling of ``last_updated_timestamp``.
MODEL_ORDER_COLUMNS = {
    "name": "name",
    "creation_timestamp": "creation_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
    "timestamp": "last_updated_timestamp",
}
VERSION_ORDER_COLUMNS = {
    "name": "name",
    "version_number": "version_number",
    "creation_timestamp": "creation_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
}


def missing(field: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Missing value for required parameter '{field}'.")


def _text(value: object, field: str, max_length: int, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise invalid_value(field, value, "must be a string")
    if required and not value.strip():
        raise missing(field)
    if len(value) > max_length:
        raise invalid_value(field, value, f"longer than the limit of {max_length} characters")
    return value


def _no_controls(value: str, field: str) -> str:
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in value):
        raise invalid_value(field, value, "must not contain control or format characters")
    return value


def validate_name(name: object, *, field: str = "name") -> str:
    """A registered model name (NFC-normalized): MLflow's rules, no control characters, at most 256."""
    name = v.normalize_name(_text(name, field, MAX_NAME_LENGTH, required=True))
    if any(c in name for c in _NAME_FORBIDDEN):
        raise invalid_value(field, name, "names cannot contain '/', ':' or '%'")
    norm = posixpath.normpath(name)
    if norm != name or norm == "." or norm.startswith(("..", "/")):
        raise invalid_value(
            field, name, f"names must not resolve to another name when treated as a path (it is {norm!r})"
        )
    return _no_controls(name, field)


def validate_version(version: object, *, field: str = "version") -> int:
    """A version number: a positive integer, given as an int or a string of digits."""
    if isinstance(version, str):
        text = version.strip()
        if not text:
            raise missing(field)
        if text.isascii() and text.isdigit():
            version = int(text)
    if isinstance(version, bool) or not isinstance(version, int):
        raise invalid_value(field, version, "must be a positive integer")
    if not 1 <= version <= MAX_VERSION:
        raise invalid_value(field, version, f"must be between 1 and {MAX_VERSION}")
    return version


def validate_alias(alias: object, *, field: str = "alias", settable: bool = False) -> str:
    """MLflow's alias rules: letters, digits, ``_`` and ``-``, at most 255 characters. An alias to set
    (``settable``) must not be ``latest`` (any case) or look like a version (``v1``, ``V12``)."""
    alias = _text(alias, field, MAX_ALIAS_LENGTH, required=True)
    if not _ALIAS_RE.match(alias):
        raise invalid_value(
            field, alias, "aliases may only contain alphanumerics, underscores (_) and dashes (-)"
        )
    if settable and alias.lower() == LATEST_ALIAS:
        raise invalid_value(field, alias, "'latest' (any case) is reserved: it names the largest version")
    if settable and _VERSION_ALIAS_RE.match(alias):
        raise invalid_value(field, alias, "aliases like 'v1' are reserved for version numbers")
    return alias


def validate_tag_key(key: object, *, field: str = "key") -> str:
    if isinstance(key, str) and not key:
        raise missing(field)
    return v.validate_key(key, field=field)


def validate_tag_value(value: object, *, field: str = "value") -> str:
    return _text(value, field, MAX_TAG_VALUE_LENGTH)


def validate_tags(
    tags: Mapping[str, str] | Sequence[tuple[str, str]], *, field: str = "tags"
) -> dict[str, str]:
    """Tags given as a mapping or as ``(key, value)`` pairs (the last value of a key wins, as in MLflow)."""
    if isinstance(tags, Mapping):
        items = list(tags.items())
    elif isinstance(tags, Sequence) and not isinstance(tags, str):
        items = list(tags)
    else:
        raise invalid_value(field, tags, "must be a mapping or a list of (key, value) pairs")
    if len(items) > MAX_TAGS_PER_CALL:
        raise invalid_value(field, f"{len(items)} tags", f"at most {MAX_TAGS_PER_CALL} per request")
    out: dict[str, str] = {}
    for item in items:
        if not isinstance(item, tuple) or len(item) != 2:
            raise invalid_value(field, item, "each tag is a (key, value) pair")
        key = validate_tag_key(item[0], field=f"{field}.key")
        out[key] = validate_tag_value(item[1], field=f"{field}[{key}].value")
    return out


def validate_description(description: object, *, field: str = "description") -> str:
    return _text(description, field, MAX_DESCRIPTION_LENGTH)


def validate_comment(comment: object, *, field: str = "comment") -> str:
    return _text(comment, field, MAX_COMMENT_LENGTH)


def validate_run_link(run_link: object, *, field: str = "run_link") -> str:
    return _no_controls(_text(run_link, field, MAX_RUN_LINK_LENGTH), field)


def names_in(text: str) -> tuple[str, ...]:
    """The names of a setting such as ``WAYLINE_ADMINS``: separated by commas, spaces around them ignored."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


def validate_person(value: object, *, field: str) -> str:
    """An acting user or an owner (a user or group name); ``""`` means none."""
    return _no_controls(_text(value, field, MAX_ACTOR_LENGTH).strip(), field)


def validate_run_id(run_id: object, *, field: str = "run_id") -> str:
    run_id = v.validate_run_id(run_id, field=field)
    if len(run_id) > MAX_RUN_ID_LENGTH:
        raise invalid_value(field, run_id, f"a run id has at most {MAX_RUN_ID_LENGTH} characters")
    return run_id


def validate_stage(stage: object, *, field: str = "stage") -> Stage:
    if isinstance(stage, str) and not stage.strip():
        raise missing(field)
    return Stage.parse(stage, field=field)


def validate_stages(stages: object, *, field: str = "stages") -> list[Stage]:
    if stages is None:
        return []
    if isinstance(stages, (str, Stage)):
        stages = [stages]
    if not isinstance(stages, Sequence):
        raise invalid_value(field, stages, "must be a list of stages")
    return [Stage.parse(s, field=field) for s in stages]


def split_prompt_exclusion(filter_string: str | None) -> tuple[str | None, bool]:
    """The filter without MLflow's trailing "not a prompt" clause, and whether it had one.

    That clause cannot be read as a plain tag comparison (models without the tag would not match it), so the
    service leaves prompts out of the results itself, as MLflow's server does.
    """
    if not filter_string:
        return filter_string or None, False
    match = _PROMPT_EXCLUSION.match(filter_string)
    if match is None:
        return filter_string, False
    return match.group("rest") or None, True


def validate_order_by(
    order_by: object, columns: Mapping[str, str], *, field: str = "order_by"
) -> list[RegistryOrder]:
    """Clauses like ``"name"``, ``"name DESC"`` or ``"`last_updated_timestamp` asc"``, each column once."""
    if order_by is None:
        return []
    if isinstance(order_by, str):
        order_by = [order_by]
    if not isinstance(order_by, Sequence):
        raise invalid_value(field, order_by, "must be a list of clauses like 'name ASC'")
    if len(order_by) > MAX_ORDER_BY_CLAUSES:
        raise invalid_value(field, f"{len(order_by)} clauses", f"at most {MAX_ORDER_BY_CLAUSES}")
    out: list[RegistryOrder] = []
    for item in order_by:
        clause = (
            f"{item.column} {'ASC' if item.ascending else 'DESC'}"
            if isinstance(item, RegistryOrder)
            else item
        )
        if not isinstance(clause, str) or len(clause) > 100:
            raise invalid_value(field, clause, "each clause is a string like 'name ASC'")
        words = clause.split()
        if not 1 <= len(words) <= 2:
            raise invalid_value(field, clause, "each clause is a column and an optional ASC or DESC")
        column = columns.get(words[0].strip("`\"'").lower())
        if column is None:
            raise invalid_value(field, clause, f"the columns are {', '.join(sorted(columns))}")
        direction = words[1].upper() if len(words) == 2 else "ASC"
        if direction not in ("ASC", "DESC"):
            raise invalid_value(field, clause, "the direction is ASC or DESC")
        if any(o.column == column for o in out):
            raise invalid_value(field, clause, f"orders by {column} twice")
        out.append(RegistryOrder(column, ascending=direction == "ASC"))
    return out


__all__ = [
    "LATEST_ALIAS",
    "MAX_ALIAS_LENGTH",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_RUN_LINK_LENGTH",
    "MAX_TAG_VALUE_LENGTH",
    "MAX_VERSION",
    "MODEL_ORDER_COLUMNS",
    "PROMPT_TAG",
    "VERSION_ORDER_COLUMNS",
    "missing",
    "names_in",
    "split_prompt_exclusion",
    "validate_alias",
    "validate_comment",
    "validate_description",
    "validate_name",
    "validate_order_by",
    "validate_person",
    "validate_run_id",
    "validate_run_link",
    "validate_stage",
    "validate_stages",
    "validate_tag_key",
    "validate_tag_value",
    "validate_tags",
    "validate_version",
]
