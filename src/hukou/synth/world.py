"""Two views of the synthetic city that are not department feeds: a year of service
applications and the points-based settlement applicant pool.

``write_applications`` writes ``applications/applications_<year>.csv``: every
resident-facing service request the household-registration support platform handled
in the simulated year (birth registration, residence permits, household moves,
settlement, school enrolment of migrant children, cross-region medical filing,
household-register certificates, death cancellation, marriage changes). Who applies
follows the person truth (births, deaths, marriages, migration status, work, schooling,
housing); when is driven by the event (a birth, a death, a permit's anniversary) or by a
seasonal profile; counters (window, assisted, enterprise service station) only take
applications on statutory working days (:func:`hukou.standards.workdays.default_calendar`)
during office hours, online applications arrive any day with an evening peak. Two
ground-truth columns say whether the facts support approval (``eligible``) and whether
the file was complete (``documents_complete``).

``write_points_pool`` writes ``points/applicants_<year>.csv``: migrants who work in the
city, have a residence history and applied for points-based settlement (积分落户), with
the attributes a Suzhou-like points policy scores and deducts.

Both files are UTF-8 CSV with English headers; the columns, distributions, volumes and
seasonality are documented in ``docs/synth/world.md``. All randomness comes from
``ctx.streams.get("world:<purpose>")``, one stream per service, so the same seed gives
byte-identical files and changing one service does not reshuffle the others.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from hukou.standards.workdays import default_calendar
from hukou.synth.feeds.base import FeedContext

__all__ = [
    "APPLICATIONS_SCHEMA",
    "CHANNELS",
    "POINTS_SCHEMA",
    "SERVICES",
    "SKILL_LEVELS",
    "TITLES",
    "Service",
    "applications_path",
    "points_path",
    "write_applications",
    "write_points_pool",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ObjArray = npt.NDArray[Any]

CHANNELS = ("window", "online", "assisted", "enterprise_station")
_COUNTER = np.array([True, False, True, True])  # channels served at a counter in office hours
_WINDOW, _ONLINE, _ASSISTED, _ENTERPRISE = range(4)
_REGISTERED_HERE = ("native", "intra_city", "out_migrant")


@dataclass(frozen=True, slots=True)
class Service:
    """A service the platform handles: stable code, Chinese name, channel mix, paperwork."""

    code: str
    name_zh: str
    channels: tuple[float, float, float, float]  # base shares: window, online, assisted, station
    documents: float  # multiplies the channel's rate of complete files


SERVICES: tuple[Service, ...] = (
    Service("birth_registration", "出生登记", (0.35, 0.55, 0.10, 0.0), 1.05),
    Service("residence_permit_application", "居住证申领", (0.45, 0.30, 0.05, 0.20), 0.95),
    Service("residence_permit_renewal", "居住证签注", (0.25, 0.55, 0.03, 0.17), 1.05),
    Service("household_move", "户口迁移", (0.75, 0.15, 0.10, 0.0), 0.92),
    Service("settlement_application", "落户申请", (0.55, 0.30, 0.05, 0.10), 0.85),
    Service("school_enrolment", "随迁子女入学", (0.25, 0.70, 0.05, 0.0), 0.88),
    Service("cross_region_medical", "异地就医备案", (0.15, 0.80, 0.05, 0.0), 1.05),
    Service("register_certificate", "户籍证明", (0.45, 0.45, 0.10, 0.0), 1.0),
    Service("death_cancellation", "死亡注销", (0.80, 0.05, 0.15, 0.0), 0.97),
    Service("marriage_change", "婚姻状况变更", (0.50, 0.45, 0.05, 0.0), 1.0),
    Service("spouse_move_in", "夫妻投靠迁入", (0.75, 0.20, 0.05, 0.0), 0.9),
)
_SERVICE_INDEX = {s.code: i for i, s in enumerate(SERVICES)}

# Channel mix by the applicant's age band (<30, 30–44, 45–59, 60–74, 75+): the young file
# online, the elderly come to the window or have a grid worker file for them (代办).
_AGE_BANDS = np.array([30, 45, 60, 75])
_AGE_FACTOR = np.array(
    [
        [0.8, 1.6, 0.3, 1.0],
        [0.9, 1.3, 0.4, 1.0],
        [1.1, 0.8, 0.8, 0.6],
        [1.5, 0.35, 2.0, 0.0],
        [1.5, 0.12, 4.0, 0.0],
    ]
)
# Share of complete files by channel (online forms let people skip uploads).
_DOCUMENTS_BY_CHANNEL = np.array([0.86, 0.78, 0.92, 0.94])

APPLICATIONS_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "application_id": pl.String,
    "service": pl.String,
    "service_name_zh": pl.String,
    "applicant_person_id": pl.String,
    "subject_person_id": pl.String,
    "channel": pl.String,
    "district": pl.String,
    "submitted_at": pl.Datetime("us", "Asia/Shanghai"),
    "eligible": pl.Boolean,
    "documents_complete": pl.Boolean,
}

TITLES = ("none", "junior", "intermediate", "senior")
SKILL_LEVELS = ("none", "5", "4", "3", "2", "1")
POINTS_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "applicant_id": pl.String,
    "person_id": pl.String,
    "identity_number": pl.String,
    "name": pl.String,
    "birth_date": pl.Date,
    "education": pl.String,
    "si_months_city": pl.Int32,
    "residence_years": pl.Int32,
    "home_owned": pl.Boolean,
    "title": pl.String,
    "skill_certificate": pl.String,
    "honours": pl.Int32,
    "income_tax_3y": pl.Int64,
    "volunteer_hours": pl.Int32,
    "criminal_record": pl.Boolean,
    "tax_violation": pl.Boolean,
    "false_declaration": pl.Boolean,
    "applied_at": pl.Date,
    "district": pl.String,
}

# GB/T 4658 codes from least to most schooling (小学 … 博士).
_EDUCATION_ORDER = ("81", "71", "61", "41", "31", "21", "14", "11")
_BACHELOR_OR_MORE = ("21", "14", "11")
# Professional title (职称) and vocational skill level (职业技能等级) by education rank.
_TITLE_BY_EDUCATION = np.array(
    [
        [0.98, 0.02, 0.00, 0.00],
        [0.97, 0.03, 0.00, 0.00],
        [0.93, 0.06, 0.01, 0.00],
        [0.85, 0.12, 0.03, 0.00],
        [0.70, 0.20, 0.09, 0.01],
        [0.50, 0.28, 0.18, 0.04],
        [0.35, 0.25, 0.30, 0.10],
        [0.15, 0.15, 0.40, 0.30],
    ]
)
_SKILL_BY_EDUCATION = np.array(
    [
        [0.75, 0.12, 0.09, 0.035, 0.005, 0.00],
        [0.70, 0.13, 0.11, 0.05, 0.01, 0.00],
        [0.55, 0.12, 0.18, 0.11, 0.035, 0.005],
        [0.50, 0.10, 0.20, 0.14, 0.05, 0.01],
        [0.60, 0.06, 0.15, 0.13, 0.05, 0.01],
        [0.85, 0.01, 0.04, 0.06, 0.03, 0.01],
        [0.92, 0.00, 0.02, 0.03, 0.02, 0.01],
        [0.96, 0.00, 0.01, 0.01, 0.01, 0.01],
    ]
)
_POINTS_APPLY_RATE = 0.03  # share of eligible migrants applying in a year
_NEVER = 10**6  # "no death": a day offset later than any date considered

# Month weights of the seasonal services (a day's weight is its month's).
_SEASON_MONTHS: dict[str, tuple[float, ...]] = {
    "flat": (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
    "move": (0.8, 0.8, 1.1, 1.4, 1.5, 1.6, 1.1, 1.0, 0.9, 0.9, 0.9, 0.8),
    "school": (0.2, 0.3, 0.4, 0.8, 1.0, 1.2, 5.0, 5.5, 1.0, 0.2, 0.15, 0.15),
    "transfer": (0.6, 2.0, 1.0, 0.3, 0.3, 0.5, 1.2, 2.5, 2.0, 0.4, 0.3, 0.3),
    "certificate": (1.0, 0.9, 1.0, 1.0, 1.1, 1.4, 1.4, 1.3, 1.0, 0.9, 0.9, 0.9),
    "medical": (2.2, 0.8, 0.8, 0.9, 0.9, 1.0, 1.3, 1.3, 0.9, 1.1, 0.9, 1.2),
    "points": (0.6, 0.8, 2.5, 2.5, 2.2, 1.0, 0.8, 0.7, 0.7, 0.6, 0.5, 0.4),
}


def applications_path(ctx: FeedContext) -> str:
    """Where :func:`write_applications` writes, relative to the city folder."""
    return f"applications/applications_{ctx.cfg.year}.csv"


def points_path(ctx: FeedContext) -> str:
    """Where :func:`write_points_pool` writes, relative to the city folder."""
    return f"points/applicants_{ctx.cfg.year}.csv"


# --------------------------------------------------------------------------- calendar


@dataclass(frozen=True, slots=True)
class _Year:
    """The simulated year as arrays indexed by day offset from 1 January."""

    start: datetime.date
    days: int
    epoch_day: int  # 1 January as days since 1970-01-01
    workday: BoolArray
    workdays: IntArray  # the working days, in order
    month: IntArray  # 0–11
    online: FloatArray  # weight of a day for online arrivals (weekends, holidays, festival)


@cache
def _year(year: int) -> _Year:
    start = datetime.date(year, 1, 1)
    days = (datetime.date(year + 1, 1, 1) - start).days
    calendar = default_calendar()
    dates = [start + datetime.timedelta(days=d) for d in range(days)]
    workday = np.array([calendar.is_workday(d) for d in dates])
    weekend = np.array([d.weekday() >= 5 for d in dates])
    month = np.array([d.month - 1 for d in dates], dtype=np.int64)
    # Online traffic: lower at weekends, lower still on public holidays (rest days that
    # are not plain weekends), and lowest over Spring Festival (the longest run of them).
    holiday = ~workday & ~weekend
    online = np.where(weekend, 0.8, 1.0) * np.where(holiday, 0.6, 1.0)
    festival = _spring_festival(workday, month)
    online = np.where(festival, 0.35, online)
    workdays = np.flatnonzero(workday).astype(np.int64)
    epoch_day = (start - datetime.date(1970, 1, 1)).days
    return _Year(start, days, epoch_day, workday, workdays, month, online)


def _spring_festival(workday: BoolArray, month: IntArray) -> BoolArray:
    """The longest run of rest days in January–February (Spring Festival holiday)."""
    rest = ~workday & (month <= 1)
    best_start, best_length, run_start = 0, 0, -1
    for d in range(len(rest) + 1):
        if d < len(rest) and rest[d]:
            if run_start < 0:
                run_start = d
            continue
        if run_start >= 0 and d - run_start > best_length:
            best_start, best_length = run_start, d - run_start
        run_start = -1
    out = np.zeros(len(rest), dtype=bool)
    out[best_start : best_start + best_length] = True
    return out


def _season(year: _Year, profile: str) -> FloatArray:
    """Day weights of a seasonal profile, with the lull before and after Spring Festival."""
    weights = np.array(_SEASON_MONTHS[profile], dtype=np.float64)[year.month]
    festival = np.flatnonzero(_spring_festival(year.workday, year.month))
    if len(festival) and profile != "medical":  # 异地就医备案 peaks before people go home
        first, last = int(festival[0]), int(festival[-1])
        weights[max(0, first - 8) : first] *= 0.75  # people already travelling home
        weights[last + 1 : last + 6] *= 0.85  # and not all back yet
    return weights


# Office hours 9:00–12:00 and 13:30–17:30, busiest mid-morning (about 10:00).
def _counter_minutes() -> FloatArray:
    minute = np.arange(1440, dtype=np.float64)
    morning = (minute >= 540) & (minute < 720)
    afternoon = (minute >= 810) & (minute < 1050)
    weights = np.where(morning, 1.0 + 2.2 * np.exp(-0.5 * ((minute - 600) / 45) ** 2), 0.0)
    weights += np.where(afternoon, 0.8 + 0.6 * np.exp(-0.5 * ((minute - 900) / 50) ** 2), 0.0)
    return np.asarray(weights / weights.sum(), dtype=np.float64)


# Online arrivals by hour: quiet at night, steady in office hours, peak 20:00–22:00.
# fmt: off
_ONLINE_HOURS = np.array([0.25, 0.12, 0.06, 0.04, 0.04, 0.06, 0.2, 0.5, 0.9, 1.1, 1.2, 1.1,
                          1.0, 0.9, 1.0, 1.0, 0.95, 0.9, 1.0, 1.3, 1.6, 1.7, 1.3, 0.6])
# fmt: on


def _online_minutes() -> FloatArray:
    weights = np.repeat(_ONLINE_HOURS, 60)
    return np.asarray(weights / weights.sum(), dtype=np.float64)


# --------------------------------------------------------------------------- people


@dataclass(frozen=True, slots=True)
class _People:
    """The person truth as NumPy arrays; days are offsets from 1 January of the year."""

    n: int
    pid: IntArray
    person_id: pl.Series  # String, indexed by pid
    age: FloatArray  # years at the snapshot date
    birth: IntArray
    death: IntArray  # _NEVER if alive at the snapshot
    since: IntArray
    status: ObjArray
    role: IntArray
    head: IntArray
    spouse: IntArray
    household: IntArray
    registered: ObjArray
    actual: ObjArray
    tenure: ObjArray
    rental_registered: BoolArray
    employed: BoolArray
    si_months: IntArray
    education: ObjArray
    enrolled: BoolArray
    unregistered: BoolArray
    cross_region: BoolArray
    insured: BoolArray
    criminal: BoolArray
    married_in_year: BoolArray
    marriage: IntArray

    @property
    def registered_here(self) -> BoolArray:
        return np.isin(self.status, _REGISTERED_HERE)

    @property
    def migrant(self) -> BoolArray:
        return np.asarray(self.status == "migrant", dtype=bool)


def _day_offsets(series: pl.Series, epoch_day: int, missing: int) -> IntArray:
    days = series.cast(pl.Int64).fill_null(missing + epoch_day).to_numpy()
    return np.asarray(days, dtype=np.int64) - epoch_day


def _people(ctx: FeedContext, year: _Year) -> _People:
    p = ctx.population.persons
    # Person ids index arrays (head_pid, spouse_pid): rows must be in pid order.
    assert (p["pid"].to_numpy() == np.arange(p.height)).all()
    snapshot = (ctx.cfg.snapshot_date - year.start).days
    birth = _day_offsets(p["birth_date"], year.epoch_day, 0)

    def arr(name: str) -> Any:
        return p[name].to_numpy()

    return _People(
        n=p.height,
        pid=np.asarray(arr("pid"), dtype=np.int64),
        person_id=p["person_id"],
        age=(snapshot - birth) / 365.25,
        birth=birth,
        death=_day_offsets(p["death_date"], year.epoch_day, _NEVER),
        since=_day_offsets(p["actual_since"], year.epoch_day, 0),
        status=np.asarray(arr("status"), dtype=object),
        role=np.asarray(arr("role"), dtype=np.int64),
        head=np.asarray(arr("head_pid"), dtype=np.int64),
        spouse=np.asarray(arr("spouse_pid"), dtype=np.int64),
        household=np.asarray(arr("household_index"), dtype=np.int64),
        registered=np.asarray(arr("registered_division"), dtype=object),
        actual=np.asarray(arr("actual_division"), dtype=object),
        tenure=np.asarray(arr("tenure"), dtype=object),
        rental_registered=np.asarray(arr("rental_registered"), dtype=bool),
        employed=np.asarray(arr("employed"), dtype=bool),
        si_months=np.asarray(arr("si_months"), dtype=np.int64),
        education=np.asarray(p["education"].fill_null("").to_numpy(), dtype=object),
        enrolled=np.asarray(arr("enrolled"), dtype=bool),
        unregistered=np.asarray(arr("unregistered"), dtype=bool),
        cross_region=np.asarray(arr("cross_region_medical"), dtype=bool),
        insured=np.asarray(arr("medical_insured"), dtype=bool),
        criminal=np.asarray(arr("criminal_record"), dtype=bool),
        married_in_year=np.asarray(arr("married_in_year"), dtype=bool),
        marriage=_day_offsets(p["marriage_date"], year.epoch_day, -_NEVER),
    )


def _legal_housing(people: _People) -> BoolArray:
    """Owned, a registered rental or an employer's dormitory (合法稳定住所)."""
    legal = (people.tenure == "owned") | (people.tenure == "dormitory") | people.rental_registered
    return np.asarray(legal, dtype=bool)


def _guardian(people: _People, rng: np.random.Generator, who: IntArray) -> IntArray:
    """A parent of each child in ``who``: the household head or the head's spouse."""
    head = people.head[who]
    spouse = people.spouse[head]
    pick_spouse = (spouse >= 0) & (rng.random(len(who)) < 0.5)
    parent = np.where(pick_spouse, spouse, head)
    return np.where(parent == who, head, parent)


def _self_or_guardian(people: _People, rng: np.random.Generator, who: IntArray) -> IntArray:
    """Adults apply for themselves, minors through a parent."""
    return np.where(people.age[who] >= 18, who, _guardian(people, rng, who))


# --------------------------------------------------------------------------- applications


@dataclass(frozen=True, slots=True)
class _Candidates:
    """Applications of one service before channel and time are drawn.

    ``target`` is the day the applicant acts on (an event plus a delay), used where
    ``profile`` is empty; elsewhere the day is drawn from the named seasonal profile.
    ``applicant`` is -1 when filed by someone outside the population (a relative
    elsewhere).
    """

    subject: IntArray
    applicant: IntArray
    district: ObjArray
    eligible: BoolArray
    target: IntArray
    profile: ObjArray


def _event(
    subject: IntArray,
    applicant: IntArray,
    district: ObjArray,
    eligible: BoolArray,
    target: IntArray,
) -> _Candidates:
    """Candidates whose day follows an event."""
    return _Candidates(
        subject, applicant, district, eligible, target, np.full(len(subject), "", dtype=object)
    )


def _seasonal(
    subject: IntArray, applicant: IntArray, district: ObjArray, eligible: BoolArray, profile: str
) -> _Candidates:
    """Candidates whose day is drawn from a seasonal profile."""
    return _Candidates(
        subject,
        applicant,
        district,
        eligible,
        np.zeros(len(subject), dtype=np.int64),
        np.full(len(subject), profile, dtype=object),
    )


def _lag(
    rng: np.random.Generator, n: int, mean: float, late: float, late_range: tuple[int, int]
) -> IntArray:
    """A filing delay in days: gamma around ``mean``, a share ``late`` much later."""
    days = 1 + rng.gamma(1.6, mean / 1.6, n).astype(np.int64)
    overdue = rng.random(n) < late
    return np.where(overdue, rng.integers(late_range[0], late_range[1], n), days)


def _births(people: _People, rng: np.random.Generator) -> _Candidates:
    """Children born this year (or in the last weeks of the last), filed by a parent."""
    recent = (people.birth >= -75) & (people.role == 2) & ~people.unregistered
    # A few migrant parents try to register a child here; it belongs at the origin.
    attempt = people.migrant & (rng.random(people.n) < 0.05)
    who = np.flatnonzero(recent & (people.registered_here | attempt))
    target = people.birth[who] + _lag(rng, len(who), 14.0, 0.07, (30, 180))
    parent = _guardian(people, rng, who)
    other = np.where(parent == people.head[who], people.spouse[people.head[who]], people.head[who])
    dead = people.death[parent] <= target
    parent = np.where(dead & (other >= 0), other, parent)
    here = people.registered_here[who]
    return _event(
        who, parent, np.where(here, people.registered[who], people.actual[who]), here, target
    )


def _residence_permits(people: _People, rng: np.random.Generator) -> _Candidates:
    """Migrants apply for a 居住证 about six months after they arrive (a few too early)."""
    n = people.n
    early = rng.random(n) < 0.06
    target = np.where(
        early,
        people.since + rng.integers(45, 180, n),
        people.since + 180 + rng.gamma(1.5, 40.0, n).astype(np.int64),
    )
    adult = target - people.birth >= 16 * 365.25
    who = np.flatnonzero(people.migrant & adult & (rng.random(n) < 0.85))
    target = target[who]
    eligible = (target - people.since[who] >= 180) & (
        people.employed[who] | _legal_housing(people)[who] | people.enrolled[who]
    )
    return _event(who, who, people.actual[who], eligible, target)


def _renewals(people: _People, rng: np.random.Generator) -> _Candidates:
    """Holders renew (签注) around their permit's anniversary; about half bother."""
    n = people.n
    first = people.since + 200 + rng.integers(-20, 40, n)  # when the permit was first issued
    anniversary = np.mod(first, 365)  # the permit's anniversary this year (day offset)
    target = np.mod(anniversary + rng.integers(-20, 30, n), 365)  # renew around it
    holder = first + 365 <= anniversary  # held it for a full year already
    adult = target - people.birth >= 16 * 365.25
    who = np.flatnonzero(people.migrant & holder & adult & (rng.random(n) < 0.5))
    eligible = (people.employed | _legal_housing(people) | people.enrolled)[who]
    return _event(who, who, people.actual[who], eligible, target[who])


def _household_moves(people: _People, rng: np.random.Generator) -> _Candidates:
    """Some 人户分离 households move their registration to where they live (one per 户)."""
    moving = rng.random(int(people.household.max()) + 1) < 0.08
    who = np.flatnonzero(
        (people.status == "intra_city")
        & (people.role == 0)
        & moving[people.household]
        & (people.age >= 18)
    )
    settled = people.since[who] <= -365
    eligible = (people.tenure[who] == "owned") | (people.rental_registered[who] & settled)
    return _seasonal(who, who, people.actual[who], eligible, "move")


def _settlements(people: _People, rng: np.random.Generator) -> _Candidates:
    """Migrants with work and a long insurance record apply to settle (落户)."""
    bachelor = np.isin(people.education, _BACHELOR_OR_MORE)
    owned = people.tenure == "owned"
    strong = owned | bachelor | (people.si_months >= 24)
    worker = people.migrant & people.employed & (people.age >= 18) & (people.age < 60)
    p = np.where(strong, 0.035, np.where(people.si_months >= 6, 0.008, 0.0))
    who = np.flatnonzero(worker & (rng.random(people.n) < p))
    si = people.si_months
    rules = (
        (owned & (si >= 6))
        | (bachelor & (people.age < 45))
        | ((people.education == "31") & (si >= 12))
        | ((si >= 24) & _legal_housing(people))
    ) & ~people.criminal
    return _seasonal(who, who, people.actual[who], rules[who], "flat")


def _school(people: _People, rng: np.random.Generator, year: int) -> _Candidates:
    """Migrant children starting primary or junior school, and a few transfers."""
    sept = (datetime.date(year, 9, 1) - datetime.date(year, 1, 1)).days
    age_sept = (sept - people.birth) / 365.25
    child = people.migrant & (people.role == 2)
    entry = child & (((age_sept >= 6) & (age_sept < 7)) | ((age_sept >= 12) & (age_sept < 13)))
    transfer = child & ~entry & (age_sept >= 6) & (age_sept < 15) & people.enrolled
    entrants = np.flatnonzero(entry & (rng.random(people.n) < 0.9))
    movers = np.flatnonzero(transfer & (rng.random(people.n) < 0.03))
    # A parent with 12 months of local insurance, or an owned home, qualifies the child.
    qualifies = (people.employed & (people.si_months >= 12)) | (people.tenure == "owned")
    parts = []
    for who, profile in ((entrants, "school"), (movers, "transfer")):
        parent = _guardian(people, rng, who)
        head = people.head[who]
        spouse = people.spouse[head]
        ok = qualifies[head] | ((spouse >= 0) & qualifies[np.maximum(spouse, 0)])
        parts.append(_seasonal(who, parent, people.actual[who], ok, profile))
    return _concat(parts)


def _medical(people: _People, rng: np.random.Generator) -> _Candidates:
    """People insured at their origin file cross-region treatment (and a few uninsured try)."""
    filed = people.cross_region & (rng.random(people.n) < 0.55)
    uninsured = people.migrant & ~people.insured & (rng.random(people.n) < 0.02)
    who = np.flatnonzero(filed | uninsured)
    return _seasonal(
        who,
        _self_or_guardian(people, rng, who),
        people.actual[who],
        people.cross_region[who],
        "medical",
    )


def _certificates(people: _People, rng: np.random.Generator) -> _Candidates:
    """Anyone may ask for a 户籍证明; only people registered here can get one."""
    here = people.registered_here & ~people.unregistered
    p = np.where(here, np.where(people.age >= 18, 0.04, 0.02), np.where(people.migrant, 0.002, 0.0))
    who = np.flatnonzero(rng.random(people.n) < p)
    district = np.where(here[who], people.registered[who], people.actual[who])
    return _seasonal(who, _self_or_guardian(people, rng, who), district, here[who], "certificate")


def _deaths(people: _People, rng: np.random.Generator) -> _Candidates:
    """Registered people who died: the family cancels the registration within weeks."""
    who = np.flatnonzero((people.death < _NEVER) & people.registered_here)
    target = people.death[who] + _lag(rng, len(who), 12.0, 0.08, (30, 120))
    applicant = _family_member(people, rng, who, target)
    return _event(who, applicant, people.registered[who], np.ones(len(who), dtype=bool), target)


def _family_member(
    people: _People, rng: np.random.Generator, who: IntArray, day: IntArray
) -> IntArray:
    """An adult of the deceased's household alive on ``day``: spouse, child, head, anyone."""
    if len(who) == 0:
        return np.empty(0, dtype=np.int64)
    deaths = pl.DataFrame(
        {"who": who, "household": people.household[who], "day": day, "spouse": people.spouse[who]}
    )
    members = pl.DataFrame(
        {
            "member": people.pid,
            "household": people.household,
            "role": people.role,
            "age": people.age,
            "death": people.death,
        }
    )
    joined = (
        deaths.join(members, on="household", how="inner")
        .filter(
            (pl.col("member") != pl.col("who"))
            & (pl.col("age") >= 18)
            & (pl.col("death") > pl.col("day"))
        )
        .sort("who", "member")
    )
    tiebreak = rng.random(joined.height)
    best = (
        joined.with_columns(
            pl.when(pl.col("member") == pl.col("spouse"))
            .then(0)
            .when(pl.col("role") == 2)
            .then(1)
            .when(pl.col("role") == 0)
            .then(2)
            .otherwise(3)
            .alias("rank"),
            pl.Series("tiebreak", tiebreak),
        )
        .sort("who", "rank", "tiebreak")
        .group_by("who", maintain_order=True)
        .first()
    )
    found = dict(zip(best["who"].to_list(), best["member"].to_list(), strict=True))
    return np.array([found.get(int(w), -1) for w in who], dtype=np.int64)


def _marriages(people: _People, rng: np.random.Generator) -> _Candidates:
    """Newly-wed registered residents update their marital status in the register."""
    who = np.flatnonzero(
        people.married_in_year & people.registered_here & (rng.random(people.n) < 0.5)
    )
    target = people.marriage[who] + 3 + rng.gamma(2.0, 15.0, len(who)).astype(np.int64)
    return _event(who, who, people.registered[who], np.ones(len(who), dtype=bool), target)


def _spouse_moves(people: _People, rng: np.random.Generator) -> _Candidates:
    """A newly-wed spouse moves into the partner's 户 (migrant couples cannot: no partner here)."""
    spouse = people.married_in_year & (people.role == 1)
    p = np.where(people.registered_here, 0.3, np.where(people.migrant, 0.03, 0.0))
    who = np.flatnonzero(spouse & (rng.random(people.n) < p))
    here = people.registered_here[who]
    target = people.marriage[who] + 10 + rng.gamma(2.0, 20.0, len(who)).astype(np.int64)
    return _event(
        who, who, np.where(here, people.registered[who], people.actual[who]), here, target
    )


def _concat(parts: list[_Candidates]) -> _Candidates:
    return _Candidates(
        np.concatenate([c.subject for c in parts]),
        np.concatenate([c.applicant for c in parts]),
        np.concatenate([c.district for c in parts]),
        np.concatenate([c.eligible for c in parts]),
        np.concatenate([c.target for c in parts]),
        np.concatenate([c.profile for c in parts]),
    )


_Builder = Callable[[_People, np.random.Generator], _Candidates]


def _builders(year: int) -> dict[str, _Builder]:
    return {
        "birth_registration": _births,
        "residence_permit_application": _residence_permits,
        "residence_permit_renewal": _renewals,
        "household_move": _household_moves,
        "settlement_application": _settlements,
        "school_enrolment": lambda people, rng: _school(people, rng, year),
        "cross_region_medical": _medical,
        "register_certificate": _certificates,
        "death_cancellation": _deaths,
        "marriage_change": _marriages,
        "spouse_move_in": _spouse_moves,
    }


def _channels(
    people: _People, rng: np.random.Generator, service: Service, applicant: IntArray
) -> IntArray:
    """Draw each application's channel from the service's mix and the applicant's age."""
    n = len(applicant)
    known = applicant >= 0
    safe = np.maximum(applicant, 0)
    age = np.where(known, people.age[safe], 50.0)  # a relative from elsewhere: middle-aged
    band = np.searchsorted(_AGE_BANDS, age, side="right")
    weights = np.asarray(service.channels, dtype=np.float64)[None, :] * _AGE_FACTOR[band]
    weights[:, _ENTERPRISE] *= np.where(known, people.employed[safe], False)
    # People registered here but living elsewhere mostly cannot come to a counter.
    away = known & (people.status[safe] == "out_migrant")
    weights[away] *= np.array([0.15, 3.0, 0.15, 0.0])
    cumulative = np.cumsum(weights, axis=1)
    draw = rng.random(n) * cumulative[:, -1]
    return np.asarray((draw[:, None] > cumulative).sum(axis=1), dtype=np.int64)


def _days_for(
    year: _Year, rng: np.random.Generator, channel: IntArray, candidates: _Candidates
) -> IntArray:
    """The submission day: the event's target or a seasonal draw.

    Counters take an event that falls on a rest day on one of the next three working
    days (half on the first). Online, people put some of it off at weekends and holidays
    (most of it over Spring Festival) the same way. Days outside the year come back as
    -1 (the application belongs to another year's file).
    """
    counter = _COUNTER[channel]
    target = candidates.target
    inside = (target >= 0) & (target < year.days)
    clipped = np.clip(target, 0, year.days - 1)
    later = rng.choice(3, len(target), p=[0.5, 0.3, 0.2])
    position = np.searchsorted(year.workdays, clipped) + np.where(year.workday[clipped], 0, later)
    rolled = np.where(
        position < len(year.workdays),
        year.workdays[np.minimum(position, len(year.workdays) - 1)],
        year.days,
    )
    put_off = rng.random(len(target)) > year.online[clipped]
    fixed = np.where(counter | put_off, rolled, target)
    day = np.where(inside & (fixed < year.days), fixed, -1)
    for profile in sorted(set(candidates.profile.tolist()) - {""}):
        season = _season(year, profile)
        for is_counter, weights in ((True, season * year.workday), (False, season * year.online)):
            mask = (candidates.profile == profile) & (counter == is_counter)
            day[mask] = rng.choice(year.days, int(mask.sum()), p=weights / weights.sum())
    return np.asarray(day, dtype=np.int64)


def _seconds(rng: np.random.Generator, channel: IntArray) -> IntArray:
    """Second of the day: office hours for counters, any time (evening peak) online."""
    counter = _COUNTER[channel]
    minute = np.where(
        counter,
        rng.choice(1440, len(channel), p=_counter_minutes()),
        rng.choice(1440, len(channel), p=_online_minutes()),
    )
    return np.asarray(minute * 60 + rng.integers(0, 60, len(channel)), dtype=np.int64)


def _service_frame(
    ctx: FeedContext, people: _People, year: _Year, index: int, build: _Builder
) -> pl.DataFrame:
    service = SERVICES[index]
    rng = ctx.streams.get(f"world:applications:{service.code}")
    candidates = build(people, rng)
    channel = _channels(people, rng, service, candidates.applicant)
    day = _days_for(year, rng, channel, candidates)
    seconds = _seconds(rng, channel)
    documents = rng.random(len(channel)) < np.clip(
        _DOCUMENTS_BY_CHANNEL[channel] * service.documents, 0.0, 0.99
    )
    subject, applicant = candidates.subject, candidates.applicant
    safe = np.maximum(applicant, 0)
    keep = (day >= 0) & (day > people.birth[subject])
    keep &= (applicant < 0) | (people.death[safe] > day)
    if service.code != "death_cancellation":
        keep &= people.death[subject] > day
    # Migrants file in the city only once they live here.
    keep &= (
        ~people.migrant[subject]
        | (day >= people.since[subject])
        | (service.code == "birth_registration")
    )
    micro = ((year.epoch_day + day) * 86_400 + seconds - 8 * 3600) * 1_000_000
    n = len(subject)
    return (
        pl.DataFrame(
            {
                "service": pl.Series([service.code] * n, dtype=pl.String),
                "service_name_zh": pl.Series([service.name_zh] * n, dtype=pl.String),
                "applicant_person_id": people.person_id.gather(safe),
                "subject_person_id": people.person_id.gather(subject),
                "channel": pl.Series(np.array(CHANNELS)[channel], dtype=pl.String),
                "district": pl.Series(candidates.district.astype(str), dtype=pl.String),
                "_micro": micro,
                "_subject": subject,
                "_applicant": applicant,
                "eligible": candidates.eligible,
                "documents_complete": documents,
                "_keep": keep,
            }
        )
        .filter(pl.col("_keep"))
        .with_columns(pl.when(pl.col("_applicant") >= 0).then(pl.col("applicant_person_id")))
    )


def write_applications(ctx: FeedContext) -> pl.DataFrame:
    """Write the year's service applications and return them (typed, file order).

    One row per application, sorted by submission time; ``application_id`` numbers them
    in that order (``SQ<year><8 digits>``).
    """
    year = _year(ctx.cfg.year)
    people = _people(ctx, year)
    frames = [
        _service_frame(ctx, people, year, _SERVICE_INDEX[code], build)
        for code, build in _builders(ctx.cfg.year).items()
    ]
    frame = (
        pl.concat(frames)
        .sort("_micro", "service", "_subject")
        .with_columns(
            pl.format(
                "SQ{}{}",
                pl.lit(ctx.cfg.year),
                pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(8),
            ).alias("application_id"),
            pl.col("_micro")
            .cast(pl.Datetime("us"))
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone("Asia/Shanghai")
            .alias("submitted_at"),
        )
        .select([pl.col(c).cast(t) for c, t in APPLICATIONS_SCHEMA.items()])
    )
    path = ctx.out / applications_path(ctx)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.with_columns(pl.col("submitted_at").dt.strftime("%Y-%m-%dT%H:%M:%S%:z")).write_csv(path)
    return frame


# --------------------------------------------------------------------------- points pool


def _by_rank(rng: np.random.Generator, rank: IntArray, table: FloatArray) -> IntArray:
    """Draw a column index of ``table`` for each row rank (rows are probabilities)."""
    cumulative = np.cumsum(table, axis=1)[rank]
    draw = rng.random(len(rank)) * cumulative[:, -1]
    index = (draw[:, None] > cumulative).sum(axis=1).clip(0, table.shape[1] - 1)
    return np.asarray(index, dtype=np.int64)


def write_points_pool(ctx: FeedContext) -> pl.DataFrame:
    """Write the year's points-based settlement applicants and return them (file order).

    Candidates are migrants who are alive, employed, 18–59, and — on the day they
    apply — have lived in the city a year and paid 12 months of local social
    insurance. About 3 % of them apply in the year, more often those with children of
    school age (points decide school places too), a degree or a home.
    """
    year = _year(ctx.cfg.year)
    people = _people(ctx, year)
    rng = ctx.streams.get("world:points:applicants")
    snapshot = (ctx.cfg.snapshot_date - year.start).days
    n = people.n
    season = _season(year, "points") * year.workday
    applied = rng.choice(year.days, n, p=season / season.sum())
    si_then = np.maximum(people.si_months - (snapshot - applied) // 30, 0)
    candidate = (
        people.migrant
        & people.employed
        & (people.age >= 18)
        & (people.age < 60)
        & (people.death > applied)
        & (applied - people.since >= 365)
        & (si_then >= 12)
    )
    rank = np.zeros(n, dtype=np.int64)
    for r, code in enumerate(_EDUCATION_ORDER):
        rank[people.education == code] = r
    sept = (datetime.date(ctx.cfg.year, 9, 1) - year.start).days
    child_age = (sept - people.birth) / 365.25
    school_child = (people.role == 2) & (child_age >= 5) & (child_age < 15)
    has_child = (
        np.bincount(
            people.household, weights=school_child, minlength=int(people.household.max()) + 1
        )[people.household]
        > 0
    )
    has_child &= people.role != 2
    bachelor = np.isin(people.education, _BACHELOR_OR_MORE)
    propensity = (
        1.0
        + 1.5 * has_child
        + 0.8 * bachelor
        + 0.5 * (people.tenure == "owned")
        + 0.05 * np.minimum(si_then / 12, 10)
    )
    mean = propensity[candidate].mean() if candidate.any() else 1.0
    p = np.clip(_POINTS_APPLY_RATE * propensity / mean, 0, 0.5)
    who = np.flatnonzero(candidate & (rng.random(n) < p))
    who = who[np.lexsort((who, applied[who]))]
    m = len(who)
    attr = ctx.streams.get("world:points:attributes")
    edu = rank[who]
    age = (applied[who] - people.birth[who]) / 365.25
    title = _by_rank(attr, edu, _TITLE_BY_EDUCATION)
    title = np.where(
        age < 28, np.minimum(title, 1), np.where(age < 33, np.minimum(title, 2), title)
    )
    skill = _by_rank(attr, edu, _SKILL_BY_EDUCATION)
    honours = attr.poisson(0.02 + 0.03 * (edu >= 5) + 0.03 * (title == 2) + 0.08 * (title == 3))
    gap = np.where(attr.random(m) < 0.2, attr.integers(0, 730, m), 0)
    residence = np.maximum((applied[who] - people.since[who] - 180 - gap) // 365.25, 0)
    income_tax = ctx.population.persons["income_tax"].to_numpy()[who]
    tax_years = np.minimum(si_then[who] / 12, 3)
    tax_3y = np.round(income_tax * tax_years * 0.95 * attr.lognormal(0, 0.08, m))
    volunteers = attr.random(m) < 0.18 + 0.04 * edu
    hours = np.where(volunteers, np.round(attr.lognormal(np.log(30) + 0.1 * edu, 0.8, m)), 0)
    false_declaration = attr.random(m) < 0.004
    persons = ctx.population.persons
    picked = persons[who]
    frame = pl.DataFrame(
        {
            "applicant_id": [f"JF{ctx.cfg.year}{i:06d}" for i in range(1, m + 1)],
            "person_id": picked["person_id"],
            "identity_number": picked["identity_number"],
            "name": picked["name"],
            "birth_date": picked["birth_date"],
            "education": picked["education"],
            "si_months_city": si_then[who],
            "residence_years": residence,
            "home_owned": people.tenure[who] == "owned",
            "title": np.array(TITLES, dtype=object)[title],
            "skill_certificate": np.array(SKILL_LEVELS, dtype=object)[skill],
            "honours": honours,
            "income_tax_3y": tax_3y,
            "volunteer_hours": hours,
            "criminal_record": picked["criminal_record"],
            "tax_violation": picked["tax_violation"],
            "false_declaration": false_declaration,
            "applied_at": pl.Series(year.epoch_day + applied[who]).cast(pl.Date),
            "district": picked["actual_division"],
        },
        strict=False,
    ).select([pl.col(c).cast(t) for c, t in POINTS_SCHEMA.items()])
    path = ctx.out / points_path(ctx)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)
    return frame
