"""The service catalog (办事指南): what each one-window service needs, who reviews it, and
how it may be decided without anyone (秒批), one YAML file per service.

A service says which facts it needs and where each is read (an item of the sharing
catalogue, of the applicant or of the person the case is about, read through
``exchange`` with the case's purpose: 免证明, no certificate where the registry holds the
fact), the material that stands in for a fact the registry cannot prove, the
departments that review it (same stage: in parallel; later stage: after), a decision
table read top to bottom (:mod:`hukou.casework.rules`), the statutory time limit in
working days and the legal reference. Adding a service is writing a file, not code.

Files are validated on load with every problem named by file, line and key
(:mod:`hukou.yamldoc`); references across the file (a decision row naming an
undefined fact, an item the sharing catalogue does not know) are problems too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import yaml
from pydantic import Field, ValidationInfo, field_validator, model_validator

from hukou.yamldoc import DocumentError, DocumentModel, DocumentProblem, Location, load_document

__all__ = [
    "CHANNELS",
    "Catalog",
    "Channel",
    "Condition",
    "DecisionRow",
    "Department",
    "Fact",
    "Material",
    "Outcome",
    "Review",
    "Service",
    "Text",
    "data_path",
    "load_catalog",
    "load_departments",
    "load_services",
]

_PACKAGE: Final = "hukou.casework"
_CODE = r"^[a-z][a-z0-9_]{1,63}$"
_Code = Annotated[str, Field(pattern=_CODE)]


class Channel(StrEnum):
    """How an application reaches the platform."""

    WINDOW = "window"
    """窗口: a clerk files for the resident in person."""
    ONLINE = "online"
    """网上: the resident files themselves."""
    ASSISTED = "assisted"
    """帮办代办: a helper files, their identity and relation recorded."""
    ENTERPRISE_STATION = "enterprise_station"
    """企业服务站: an employer files for many employees in one batch."""


CHANNELS: Final = tuple(Channel)


class Outcome(StrEnum):
    """What a decision-table row decides."""

    APPROVE = "approve"
    REJECT = "reject"
    REVIEW = "review"
    """Departments review it (the row says why it could not be decided)."""


class Text(DocumentModel):
    """Words shown to people, in simplified Chinese and English."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Material(DocumentModel):
    """A document a resident uploads when the registry cannot prove a fact."""

    code: _Code
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Condition(DocumentModel):
    """What a fact's value must satisfy; exactly one kind.

    Dates are compared with the filing date: ``age_*`` in whole years of a birth date,
    ``days_since_at_least`` / ``days_since_at_most`` in days since a date, ``not_before_filing``
    for a date that must not have passed (a lease still running). ``in_city`` is a
    division code inside the city the platform serves.
    """

    present: Literal[True] | None = None
    equals: str | int | bool | None = None
    one_of: tuple[str, ...] | None = None
    at_least: int | None = None
    at_most: int | None = None
    in_city: bool | None = None
    age_at_least: int | None = Field(default=None, ge=0, le=150)
    age_below: int | None = Field(default=None, ge=0, le=150)
    days_since_at_least: int | None = Field(default=None, ge=0)
    days_since_at_most: int | None = Field(default=None, ge=0)
    not_before_filing: Literal[True] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        given = [name for name, value in self if value is not None]
        if len(given) != 1:
            kinds = ", ".join(type(self).model_fields)
            raise ValueError(f"give exactly one test of: {kinds} (got {len(given)})")
        return self

    @property
    def kind(self) -> str:
        """The name of the one test given."""
        return next(name for name, value in self if value is not None)

    @property
    def argument(self) -> object:
        """The test's parameter (``True`` for the flag tests)."""
        return getattr(self, self.kind)


class Fact(DocumentModel):
    """One thing a decision needs to know, and where the registry knows it from.

    ``item`` of ``of`` (the applicant or the person the case is about), judged by
    ``test``. A fact without an item is one no department's data holds (a title deed,
    a resettlement order): only its ``material`` can show it, and a person checks it.
    """

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    of: Literal["applicant", "subject"] = "subject"
    item: str | None = None
    test: Condition | None = None
    material: Material | None = None
    """What the resident uploads if the registry cannot prove it (none: it must be proven)."""

    @field_validator("item")
    @classmethod
    def _known_item(cls, item: str | None, info: ValidationInfo) -> str | None:
        known = (info.context or {}).get("items")
        if item is not None and known is not None and item not in known:
            raise ValueError(f"{item!r} is not an item of the sharing catalogue")
        return item

    @model_validator(mode="after")
    def _proven_somehow(self) -> Fact:
        if (self.item is None) != (self.test is None):
            raise ValueError("give both 'item' and 'test', or neither (material only)")
        if self.item is None and self.material is None:
            raise ValueError("a fact no item proves needs the 'material' that shows it")
        return self


class Review(DocumentModel):
    """One department's task; tasks of one stage run in parallel, stages in order."""

    department: str
    task: Text
    stage: int = Field(default=1, ge=1, le=9)

    @field_validator("department")
    @classmethod
    def _known_department(cls, department: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get("departments")
        if known is not None and department not in known:
            raise ValueError(f"{department!r} is not a known department")
        return department


class DecisionRow(DocumentModel):
    """A row of the decision table: when every listed fact is known and has the given
    truth, ``then``; a row without ``when`` matches always (the last row must be one)."""

    when: dict[str, bool] = Field(default_factory=dict)
    then: Outcome
    reason: Text


class Service(DocumentModel):
    """One service of the catalog (an 办事指南 as data)."""

    code: _Code
    name: Text
    legal_reference: str = Field(min_length=4)
    purpose: str = "case_processing"
    first_contact: str
    """The department that receives the case and owns it to the end (首接负责制)."""
    time_limit_workdays: int = Field(ge=1, le=60)
    """The statutory (or promised) limit, in working days from filing to decision."""
    channels: tuple[Channel, ...] = CHANNELS
    facts: dict[str, Fact]
    reviews: tuple[Review, ...]
    decision: tuple[DecisionRow, ...]
    result: Text
    """What the resident receives when it is approved (a certificate, a card, a record)."""

    def materials(self) -> dict[str, Material]:
        """The materials that can stand in for a fact of this service, by code."""
        return {f.material.code: f.material for f in self.facts.values() if f.material is not None}

    @field_validator("purpose")
    @classmethod
    def _known_purpose(cls, purpose: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get("purposes")
        if known is not None and purpose not in known:
            raise ValueError(f"{purpose!r} is not a purpose of the sharing catalogue")
        return purpose

    @field_validator("first_contact")
    @classmethod
    def _known_first_contact(cls, department: str, info: ValidationInfo) -> str:
        return Review._known_department(department, info)

    @property
    def stages(self) -> tuple[tuple[Review, ...], ...]:
        """The review tasks grouped by stage, in order."""
        numbers = sorted({review.stage for review in self.reviews})
        return tuple(tuple(r for r in self.reviews if r.stage == n) for n in numbers)


def _references(service: Service) -> Iterable[tuple[Location, str]]:
    """Rules across the file: rows name defined facts; the last row is the fallback."""
    if not service.reviews:
        yield ("reviews",), "name at least one reviewing department (the fallback of 秒批)"
    if not service.decision:
        yield ("decision",), "the decision table needs at least its last, unconditional row"
        return
    for index, row in enumerate(service.decision):
        for name in row.when:
            if name not in service.facts:
                yield ("decision", index, "when", name), f"no fact {name!r} is defined"
    if service.decision[-1].when:
        yield ("decision", len(service.decision) - 1), "the last row must have no 'when'"
    for index, row in enumerate(service.decision[:-1]):
        if not row.when:
            yield ("decision", index), "only the last row may have no 'when' (rows below it)"
    used = {name for row in service.decision for name in row.when}
    for name in service.facts:
        if name not in used:
            yield ("facts", name), f"fact {name!r} is not used by any decision row"
    stages = sorted({review.stage for review in service.reviews})
    if stages != list(range(1, len(stages) + 1)):
        yield ("reviews",), f"stages must be numbered 1, 2, … without gaps, got {stages}"
    departments = [review.department for review in service.reviews]
    for index, department in enumerate(departments):
        if department in departments[:index]:
            yield ("reviews", index, "department"), f"{department!r} reviews twice"


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every service by code, with the file each came from."""

    services: Mapping[str, Service]
    files: Mapping[str, str]

    def __getitem__(self, code: str) -> Service:
        return self.services[code]

    def __contains__(self, code: object) -> bool:
        return code in self.services

    def __len__(self) -> int:
        return len(self.services)


@dataclass(frozen=True, slots=True)
class Department:
    """A department that receives or reviews cases (``data/departments.yaml``)."""

    code: str
    zh: str
    en: str


def data_path(*parts: str) -> Path:
    """A file shipped in ``hukou/casework/data``."""
    return Path(str(resources.files(_PACKAGE).joinpath("data", *parts)))


@cache
def load_departments() -> Mapping[str, Department]:
    """The departments cases may name, by code."""
    with data_path("departments.yaml").open(encoding="utf-8") as stream:
        table: dict[str, dict[str, str]] = yaml.safe_load(stream)
    return {code: Department(code, names["zh"], names["en"]) for code, names in table.items()}


def _context() -> dict[str, Any]:
    # Imported here: the sharing catalogue reads every feed spec, which the pure rules
    # and their tests need not pay for.
    from hukou.exchange.catalog import load_catalog as load_sharing  # noqa: PLC0415

    sharing = load_sharing()
    return {
        "items": frozenset(sharing.fields),
        "purposes": frozenset(sharing.purposes),
        "departments": frozenset(load_departments()),
    }


def load_services(paths: Iterable[Path], *, context: Mapping[str, Any] | None = None) -> Catalog:
    """The services in ``paths`` (YAML files), every problem of every file at once.

    Raises:
        DocumentError: a file is not a valid service, or two files define one code.
    """
    context = _context() if context is None else context
    services: dict[str, Service] = {}
    files: dict[str, str] = {}
    problems: list[DocumentProblem] = []
    for path in sorted(paths):
        try:
            service = load_document(path, Service, context=context, checks=(_references,))
        except DocumentError as error:
            problems.extend(error.problems)
            continue
        if service.code in services:
            message = f"service {service.code!r} is also defined in {files[service.code]}"
            problems.append(DocumentProblem(path.name, None, "code", message))
            continue
        services[service.code] = service
        files[service.code] = path.name
    if problems:
        raise DocumentError(problems)
    return Catalog(services, files)


@cache
def load_catalog() -> Catalog:
    """The services shipped with Hukou (``hukou/casework/data/services``)."""
    return load_services(data_path("services").glob("*.yaml"))
