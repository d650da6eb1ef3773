"""Who may perform administrator actions (managing webhooks, for now): the one place the rule is enforced.

Administrators come from the server setting ``admins`` (``WAYLINE_ADMINS``, user names separated by commas).
Until users exist, an empty setting means everyone is an administrator; once it names someone, only the
users it names are, and everyone else gets PERMISSION_DENIED.
"""

from __future__ import annotations

from collections.abc import Iterable

from wayline.errors import PermissionDenied
from wayline.services import registry_validation as rv


class Administrators:
    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names = frozenset(n.strip() for n in names if n.strip())

    @classmethod
    def from_setting(cls, text: str) -> Administrators:
        """From ``WAYLINE_ADMINS``: names separated by commas (spaces around them are ignored)."""
        return cls(rv.names_in(text))

    @property
    def everyone(self) -> bool:
        """True while no administrator is named: every user may act as one."""
        return not self.names

    def require(self, actor: str, *, action: str) -> str:
        """``actor`` when it may perform ``action`` (``"manage webhooks"``); PermissionDenied otherwise."""
        actor = rv.validate_person(actor, field="actor")
        if self.everyone or actor in self.names:
            return actor
        who = f"user {actor!r}" if actor else "an anonymous user"
        raise PermissionDenied(f"Only administrators may {action}; {who} is not one")


__all__ = ["Administrators"]
