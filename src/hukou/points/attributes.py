"""An applicant's attributes from the registry, so they fill in nothing the departments know.

``read_attributes`` reads the person through :meth:`hukou.exchange.Exchange.read` — purpose
``points_settlement``, as the points office's automatic check (``system:points``), under its
department's agreements, one ledger entry the applicant sees — and turns what the departments
hold into policy attributes: birth date and sex (公安), education (GB/T 4658 code, 公安's
register), months of social insurance (人社), months of the current registered lease (住建).
Everything else comes from the application form and is marked *declared*; a value the
registry holds replaces the declared one (a form does not outvote the department that keeps
the fact), and ``sources`` says which is which, attribute by attribute.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from sqlalchemy.orm import Session

from hukou.exchange import Exchange, automatic_reader
from hukou.points.applicants import EDUCATION_BY_GBT4658
from hukou.standards.dates import as_date

__all__ = ["ACTOR", "ITEMS", "PURPOSE", "ApplicantAttributes", "read_attributes"]

ACTOR: Final = "system:points"
PURPOSE: Final = "points_settlement"
ITEMS: Final = ("birth_date", "sex", "education", "contribution_months", "lease_start")
"""The registry items the points office reads."""
DECLARED: Final = "declared"
_SEX: Final = {"1": "M", "2": "F"}  # GB/T 2261.1


@dataclass(frozen=True, slots=True)
class ApplicantAttributes:
    values: Mapping[str, object]
    sources: Mapping[str, str]
    """Attribute → ``registry:<department>`` or ``declared``."""
    ledger_seq: int
    """The ledger entry of the read (the applicant sees it in their access history)."""


def _months_between(start: datetime.date, end: datetime.date) -> int:
    """Whole months from ``start`` to ``end`` (0 if it has not started)."""
    months = (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)
    return max(0, months)


def read_attributes(
    db: Session,
    exchange: Exchange,
    person_id: str,
    declared: Mapping[str, object],
    *,
    department: str,
    application_id: str,
    application_date: datetime.date,
    now: datetime.datetime,
) -> ApplicantAttributes:
    """The attributes of one applicant: the registry's where it holds them, the form's
    otherwise, with where each came from."""
    reader = automatic_reader(ACTOR, department, "积分自动核验 (automatic check)", now)
    view = exchange.read(
        db,
        reader,
        person_id,
        list(ITEMS),
        PURPOSE,
        case_id=application_id,
        unmask=list(ITEMS),
        reason=f"积分申请 {application_id} 自动核验 (automatic check of the application)",
        today=application_date,
    )
    values: dict[str, object] = {**declared, "application_date": application_date}
    sources: dict[str, str] = dict.fromkeys(declared, DECLARED)
    found = view.values

    def take(attribute: str, value: object, item: str) -> None:
        values[attribute] = value
        sources[attribute] = f"registry:{view.provenance[item].department}"

    if (born := as_date(found.get("birth_date"))) is not None:
        take("birth_date", born, "birth_date")
    if str(found.get("sex")) in _SEX:
        take("sex", _SEX[str(found.get("sex"))], "sex")
    if (degree := EDUCATION_BY_GBT4658.get(str(found.get("education")))) is not None:
        take("education", degree, "education")
    months = found.get("contribution_months")
    if isinstance(months, int):
        take("insured_months", months, "contribution_months")
        take("insured_months_continuous", months, "contribution_months")
    if (lease := as_date(found.get("lease_start"))) is not None:
        take("rented_months", _months_between(lease, application_date), "lease_start")
    return ApplicantAttributes(values, sources, view.ledger_seq)
