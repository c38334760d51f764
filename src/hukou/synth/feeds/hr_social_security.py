"""人社 社保参保: the social-insurance register of the 人力资源和社会保障局 (pensions).

Who: everyone with a 企业职工基本养老保险 account in the city. That is everyone in
work (contributing through an employer, ``si_months > 0``), most retirees registered
here who draw a pension (about 65 % of people past retirement age whose 户籍 is in
the city: the others are in the rural residents' scheme, which is not this register),
and people who once contributed and no longer do (``暂停缴费``: out of work, moved
away, or retired elsewhere; a third to a half of the working-age people without a
job, by status). A record is never deleted: it is suspended or terminated.

What it knows: identity, the employer that pays the contributions (its name, its
unified social credit code, its district), when contributions started and how many
months were paid, a phone number. What it does not know: where people live (no
address at all), and most deaths: 人社 learns of a death from the family (funeral
allowance claims), the employer (减员) or a periodic comparison with the police and
civil-affairs registers. About a third of the deaths more than a month before the
export are known (the record is terminated, ``CBZT=3``); the others stay on the
register as if alive (semantic defect ``death_not_known``): pensions still paid,
or the employer stopped paying and filed a reduction (``CBZT=2``) without saying why.

How: one UTF-8 CSV with BOM per district social-insurance agency, i.e. per
employer district (retirees: the district that pays the pension), ``cbry_<code>.csv``,
sorted by 个人编号. Columns are the pinyin abbreviations of a 金保工程 export (GRBH,
SFZHM, XM …), sex as 1/2, ethnicity as its two-digit code, birth dates as
YYYY-MM-DD, other dates as YYYY/M/D without padding. Old accounts opened before
1999 may still carry the 15-digit identity number. Columns and defects are
documented in docs/synth/feeds/hr_social_security.md.
"""

from __future__ import annotations

import datetime

import numpy as np
import polars as pl

from hukou.synth.defects import FieldRoles
from hukou.synth.feeds.base import FeedContext, emit
from hukou.synth.writers import FileFormat

__all__ = ["DEPARTMENT", "write"]

DEPARTMENT = "hr_social_security"
_EPOCH = datetime.date(1970, 1, 1)
# The urban workers' pension accounts were opened in the early 1990s (国发〔1991〕33号).
_REFORM_START = datetime.date(1992, 1, 1)
_PENSION_SHARE = 0.65  # people past retirement age registered here drawing a workers' pension
# Share of working-age people without a job who still have a suspended account, by status.
_SUSPENDED_SHARE = {"native": 0.45, "intra_city": 0.45, "migrant": 0.30, "out_migrant": 0.55}
_MIN_SUSPENDED_AGE = 20
_DEATH_KNOWN = 0.33  # deaths more than a month old that reached 人社
_DEATH_KNOWN_LAG_DAYS = 30
_REDUCTION_LAG_DAYS = 60  # after two months without pay, the employer has usually filed 减员
_REDUCTION_SHARE = 0.8
# Status codes (参保状态 AAC008) and person codes (人员状态).
_PAYING, _SUSPENDED, _TERMINATED = 1, 2, 3
_WORKING, _RETIRED = 1, 2
# What the register copies from the person (the rest of the truth it does not have).
_PERSON_COLUMNS = (
    "pid", "identity_number", "name", "sex", "birth_date", "ethnicity",
    "registered_division", "phone",
)  # fmt: skip


def _days(date: datetime.date) -> int:
    return (date - _EPOCH).days


def _accounts(ctx: FeedContext) -> pl.DataFrame:
    """One row per account: the person, employer, opening day, months paid, status.

    Days are integers (days since 1970), statuses small integers; ``death`` is the
    day of death or null.
    """
    persons = ctx.population.persons
    n = persons.height
    snapshot = _days(ctx.cfg.snapshot_date)
    scope = ctx.rng(DEPARTMENT, "scope")
    history = ctx.rng(DEPARTMENT, "history")
    birth_date = persons["birth_date"]
    birth = birth_date.cast(pl.Int32).to_numpy().astype(np.int64)
    age = (snapshot - birth) / 365.25
    male = persons["sex"].to_numpy() == "1"
    status = persons["status"].to_numpy()
    employed = persons["si_months"].to_numpy() > 0
    retire_age = np.where(male, 60, 55)
    registered_here = np.isin(status, ["native", "intra_city", "out_migrant"])
    # Pensions start on the first of the month after the birthday (60 men, 55 women).
    month = birth_date.dt.month().to_numpy().astype(np.int64)
    retire_day = (
        pl.DataFrame(
            {
                "year": birth_date.dt.year().to_numpy() + retire_age + (month == 12),
                "month": month % 12 + 1,
            }
        )
        .select(pl.date("year", "month", 1).cast(pl.Int32))
        .to_series()
        .to_numpy()
        .astype(np.int64)
    )
    retired = (
        ~employed & (retire_day <= snapshot) & registered_here & (scope.random(n) < _PENSION_SHARE)
    )
    suspended_share = np.zeros(n)
    for name, share in _SUSPENDED_SHARE.items():
        suspended_share[status == name] = share
    career = (
        birth
        + ((18 + history.integers(0, 8, n)) * 365.25).astype(np.int64)
        + history.integers(0, 365, n)
    )
    reform = _days(_REFORM_START) + history.integers(0, 4 * 365, n)
    opened = np.maximum(career, reform)
    latest_end = snapshot - 30
    suspended = (
        ~employed
        & ~retired
        & (age >= _MIN_SUSPENDED_AGE)
        & (age < retire_age)
        & (opened + 180 < latest_end)
        & (scope.random(n) < suspended_share)
    )
    gaps = history.integers(0, 24, n) * (history.random(n) < 0.4)
    # Retirees: the account ran from opening (or the reform) to the retirement day.
    retiree_opened = np.minimum(opened, retire_day)
    retiree_months = np.maximum(0, (retire_day - retiree_opened) // 30 - gaps)
    # Suspended: contributions stopped some day between opening and last month, more
    # often recently (old suspended accounts get transferred or merged over the years).
    span = np.maximum(latest_end - opened - 180, 0)
    stopped = latest_end - (history.random(n) ** 2 * span).astype(np.int64)
    suspended_months = np.maximum(1, (stopped - opened) // 30 - gaps)
    last_employer = history.integers(0, ctx.population.employers.height, n)

    si_start = persons["si_start"].cast(pl.Int32).to_numpy().astype(np.int64)
    keep = employed | retired | suspended
    columns = {
        "opened": np.select([employed, retired], [si_start, retiree_opened], opened),
        "months": np.select(
            [employed, retired], [persons["si_months"].to_numpy(), retiree_months], suspended_months
        ),
        "person_status": np.where(retired, _RETIRED, _WORKING).astype(np.int8),
        "account_status": np.where(suspended, _SUSPENDED, _PAYING).astype(np.int8),
        "changed": np.select([retired, suspended], [retire_day, stopped], -1),
        "employer_index": np.where(
            employed, persons["employer_index"].to_numpy(), np.where(suspended, last_employer, -1)
        ).astype(np.int32),
    }
    return (
        persons.select(*_PERSON_COLUMNS, pl.col("death_date").cast(pl.Int32).alias("death"))
        .with_columns(pl.Series(name, values) for name, values in columns.items())
        .filter(pl.Series(keep))
    )


def _deaths(ctx: FeedContext, accounts: pl.DataFrame) -> pl.DataFrame:
    """Apply what 人社 knows of the year's deaths; tag the others ``death_not_known``."""
    snapshot = _days(ctx.cfg.snapshot_date)
    rng = ctx.rng(DEPARTMENT, "deaths")
    n = accounts.height
    died = accounts["death"].is_not_null().to_numpy()
    death_day = accounts["death"].fill_null(0).to_numpy().astype(np.int64)
    known = died & (death_day <= snapshot - _DEATH_KNOWN_LAG_DAYS) & (rng.random(n) < _DEATH_KNOWN)
    account_status = accounts["account_status"].to_numpy()
    paying_worker = (accounts["person_status"].to_numpy() == _WORKING) & (account_status == _PAYING)
    reduced = (
        died
        & ~known
        & paying_worker
        & (death_day <= snapshot - _REDUCTION_LAG_DAYS)
        & (rng.random(n) < _REDUCTION_SHARE)
    )
    reduced_day = death_day + rng.integers(0, 31, n)
    unpaid_months = np.maximum(0, (snapshot - death_day) // 30)
    stops_paying = paying_worker & (known | reduced)
    months = accounts["months"].to_numpy()
    changed = accounts["changed"].to_numpy()
    return accounts.with_columns(
        pl.Series(
            "account_status",
            np.where(known, _TERMINATED, np.where(reduced, _SUSPENDED, account_status)).astype(
                np.int8
            ),
        ),
        pl.Series("changed", np.where(known, death_day, np.where(reduced, reduced_day, changed))),
        pl.Series("months", np.where(stops_paying, np.maximum(1, months - unpaid_months), months)),
        pl.when(pl.Series(died & ~known))
        .then(pl.lit(["death_not_known"], dtype=pl.List(pl.String)))
        .alias("_defects"),
    )


def write(ctx: FeedContext) -> pl.DataFrame:
    """Write the register and return its truth rows."""
    employers = ctx.population.employers.select(
        "employer_index", "employer_name", "employer_code", "employer_division"
    )
    accounts = _deaths(ctx, _accounts(ctx))
    numbers = ctx.rng(DEPARTMENT, "numbers")
    # 个人编号 were issued in the order accounts were opened, with gaps (closed drafts).
    accounts = accounts.sort("opened", "pid").with_columns(
        pl.Series("serial", np.cumsum(numbers.integers(1, 8, accounts.height))),
    )
    unpadded = "%Y/%-m/%-d"
    district = pl.coalesce("employer_division", "registered_division")
    records = accounts.join(
        employers, on="employer_index", how="left", maintain_order="left"
    ).select(
        pl.format("3205{}", pl.col("serial").cast(pl.String).str.zfill(8)).alias("GRBH"),
        pl.col("identity_number").alias("SFZHM"),
        pl.col("name").alias("XM"),
        pl.col("sex").alias("XB"),
        pl.col("birth_date").dt.strftime("%Y-%m-%d").alias("CSRQ"),
        pl.col("ethnicity").alias("MZ"),
        pl.col("person_status").cast(pl.String).alias("RYZT"),
        pl.col("employer_name").alias("DWMC"),
        pl.col("employer_code").alias("TYSHXYDM"),
        district.alias("DWSZD"),
        pl.col("opened").cast(pl.Date).dt.strftime(unpadded).alias("CBRQ"),
        pl.col("months").alias("JFYS"),
        pl.col("account_status").cast(pl.String).alias("CBZT"),
        pl.when(pl.col("changed") >= 0)
        .then(pl.col("changed"))
        .cast(pl.Date)
        .dt.strftime(unpadded)
        .alias("BGRQ"),
        pl.col("phone").alias("LXDH"),
        pl.col("pid"),
        pl.col("birth_date").dt.year().alias("_birth_year"),
        district.alias("_district"),
        pl.col("_defects"),
    )
    return emit(
        ctx,
        DEPARTMENT,
        records,
        roles=FieldRoles(
            identity="SFZHM",
            name="XM",
            date="CSRQ",
            required=("XM", "XB", "CSRQ", "MZ", "TYSHXYDM", "LXDH"),
        ),
        fmt=FileFormat("csv", encoding="utf-8-sig"),
        stem="cbry",
        partition="_district",
        record_id="GRBH",
        quality=1.0,
    )
