"""Lifecycle stages, run statuses and view types."""

from __future__ import annotations

from enum import Enum

from wayline.errors import InvalidParameterValue


class LifecycleStage(str, Enum):
    ACTIVE = "active"
    DELETED = "deleted"


class RunStatus(str, Enum):
    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminated(self) -> bool:
        return self in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)

    @classmethod
    def parse(cls, value: str | RunStatus, *, field: str = "status") -> RunStatus:
        if isinstance(value, RunStatus):
            return value
        try:
            return cls(str(value).upper())
        except ValueError:
            allowed = ", ".join(s.value for s in cls)
            raise InvalidParameterValue(
                f"Invalid value {value!r} for parameter '{field}': expected one of {allowed}"
            ) from None


class ViewType(str, Enum):
    """Which lifecycle stages a search returns (MLflow's names)."""

    ACTIVE_ONLY = "ACTIVE_ONLY"
    DELETED_ONLY = "DELETED_ONLY"
    ALL = "ALL"

    @property
    def stages(self) -> tuple[LifecycleStage, ...]:
        if self is ViewType.ACTIVE_ONLY:
            return (LifecycleStage.ACTIVE,)
        if self is ViewType.DELETED_ONLY:
            return (LifecycleStage.DELETED,)
        return (LifecycleStage.ACTIVE, LifecycleStage.DELETED)

    @classmethod
    def parse(cls, value: str | int | ViewType, *, field: str = "view_type") -> ViewType:
        if isinstance(value, ViewType):
            return value
        by_number = {1: cls.ACTIVE_ONLY, 2: cls.DELETED_ONLY, 3: cls.ALL}
        if isinstance(value, int) and value in by_number:
            return by_number[value]
        try:
            return cls(str(value).upper())
        except ValueError:
            raise InvalidParameterValue(
                f"Invalid value {value!r} for parameter '{field}': expected ACTIVE_ONLY, DELETED_ONLY or ALL"
            ) from None
