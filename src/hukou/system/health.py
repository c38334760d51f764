"""Health of a running Hukou: can it reach its database, is the schema current,
is its reference data loaded. Operators' monitors read the JSON; people the page."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from hukou.db import current_revision, head_revision, session_scope
from hukou.holidays.store import working_calendar
from hukou.standards import divisions

__all__ = ["CalendarHealth", "DatabaseHealth", "Health", "check_health"]


@dataclass(frozen=True, slots=True)
class DatabaseHealth:
    """Reachability and schema revision of the database."""

    ok: bool
    engine: str
    revision: str | None
    head: str | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CalendarHealth:
    """The span of years the working-day calendar can count."""

    first_year: int | None
    last_year: int | None


@dataclass(frozen=True, slots=True)
class Health:
    """Everything the status page and ``/healthz`` report."""

    database: DatabaseHealth
    calendar: CalendarHealth
    divisions: str

    @property
    def ok(self) -> bool:
        """Healthy: database reachable and its schema at the newest revision."""
        return self.database.ok and self.database.revision == self.database.head

    def as_json(self) -> dict[str, Any]:
        """The JSON twin of the status page."""
        return {"status": "ok" if self.ok else "degraded", **asdict(self)}


def check_health(engine: Engine) -> Health:
    """Probe the database and reference data; a failure is reported, never raised."""
    head = head_revision(engine)
    years: tuple[int, ...] = ()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = current_revision(engine)
        database = DatabaseHealth(True, engine.dialect.name, revision, head)
        if revision == head:
            with session_scope(engine) as session:
                years = working_calendar(session).known_years()
    except SQLAlchemyError as error:
        # The class name only: driver messages can carry connection strings.
        database = DatabaseHealth(False, engine.dialect.name, None, head, type(error).__name__)
    calendar = CalendarHealth(years[0] if years else None, years[-1] if years else None)
    return Health(database, calendar, divisions.source_revision())
