"""税务 个人所得税: the wage-withholding declarations of the tax bureau (扣缴申报).

Who: every employee for whom an employer (the withholding agent, 扣缴义务人) has
filed a wage declaration this year: employed people with ``annual_income > 0``.
Employers file every month, by the 15th, for the month before, under the cumulative
withholding method (累计预扣法): each declaration carries the year-to-date income,
deductions and tax. The export (31 December) holds, per employee, the latest
declaration: normally the one for November, filed 1–15 December. A few employers
filed late (16–31 December) and a few have not filed November yet (their employees'
latest period is October). People who started work during the year have income from
their first month only; someone who died has income up to the month of death and no
declaration after it (the tax bureau is never told of deaths: that is not a defect,
the declarations simply stop). Someone who started in a month not yet declared is
not in the feed.

What it knows: the taxpayer identification number (纳税人识别号, the identity number
for residents), the name as the employer typed it (checked against the police
register when the taxpayer registered, so names are fairly clean), the employer and
its unified social credit code, the competent tax office, the year-to-date figures,
and whether the taxpayer is on the list of serious tax-law violators. What it does
not know: birth date (only as part of the number), sex, address, household.

How: JSON Lines, English keys of the e-tax API export, one file per district tax
office (``iit_<year>_<office code>.jsonl``, the office of the employer's district),
records grouped by withholding agent. Amounts are yuan with two decimals, the
declaration time an ISO datetime with +08:00. Empty values are JSON nulls. The
system validates numbers at registration, so no 15-digit numbers. Columns and defects
are documented in docs/synth/feeds/tax.md.
"""

from __future__ import annotations

import datetime

import numpy as np
import polars as pl

from hukou.synth.defects import FieldRoles
from hukou.synth.feeds.base import FeedContext, emit
from hukou.synth.iit import MONTHLY_ALLOWANCE, SPECIAL_DEDUCTION_RATE, tax_on
from hukou.synth.writers import FileFormat

__all__ = ["DEPARTMENT", "write"]

DEPARTMENT = "tax"
_LATE_SHARE = 0.02  # employers that filed the last period after the 15th
_BEHIND_SHARE = 0.015  # employers that have not filed the last period yet
_VIOLATOR = "重大税收违法失信主体"


def _filings(ctx: FeedContext, employers: int, last_period: int) -> tuple[np.ndarray, np.ndarray]:
    """Per employer, the latest period it declared; per employer and period, when.

    Returns the latest periods (1–12) and a matrix of filing times (seconds since
    the epoch, local time) indexed by employer and period - 1.
    """
    rng = ctx.rng(DEPARTMENT, "filings")
    year = ctx.cfg.year
    late = rng.random(employers) < _LATE_SHARE
    behind = ~late & (rng.random(employers) < _BEHIND_SHARE)
    latest = np.where(behind, last_period - 1, last_period)
    # Declarations are filed 1–15 of the next month, in office hours or the evening;
    # the late employers filed their latest one in the second half of the month.
    day = 1 + rng.integers(0, 15, (employers, 12))
    periods = np.arange(1, 13)
    day = np.where(late[:, None] & (periods == latest[:, None]), day + 15, day)
    second = rng.integers(8 * 3600 + 1800, 21 * 3600, (employers, 12))
    # The first day of the month after each period (February 1 … January 1).
    month_start = np.array(
        [
            (datetime.date(year + p // 12, p % 12 + 1, 1) - datetime.date(1970, 1, 1)).days
            for p in periods
        ]
    )
    declared = (month_start[None, :] + day - 1) * 86_400 + second
    return latest.astype(np.int32), declared.astype(np.int64)


def write(ctx: FeedContext) -> pl.DataFrame:
    """Write the declarations and return their truth rows."""
    persons = ctx.population.persons
    employers = ctx.population.employers
    year = ctx.cfg.year
    # The export is taken on the snapshot day: the last period filed is the month before.
    last_period = ctx.cfg.snapshot_date.month - 1
    latest, declared = _filings(ctx, employers.height, last_period)
    first_day = pl.date(year, 1, 1)
    employees = (
        persons.filter(pl.col("employed") & (pl.col("annual_income") > 0))
        .with_columns(
            pl.lit(pl.Series(latest)).gather(pl.col("employer_index")).alias("agent_period"),
            pl.when(pl.col("si_start") >= first_day)
            .then(pl.col("si_start").dt.month())
            .otherwise(1)
            .cast(pl.Int32)
            .alias("first_period"),
        )
        .with_columns(
            # The last declaration: the employer's latest, or the month the person died.
            pl.min_horizontal(
                pl.col("agent_period"),
                pl.col("death_date").dt.month().cast(pl.Int32).fill_null(12),
            ).alias("period"),
        )
        .with_columns((pl.col("period") - pl.col("first_period") + 1).alias("months"))
        .filter(pl.col("months") >= 1)
    )
    months = employees["months"].to_numpy().astype(np.float64)
    filed = declared[employees["employer_index"].to_numpy(), employees["period"].to_numpy() - 1]
    income = np.round(employees["annual_income"].to_numpy() * months / 12, 2)
    special = np.round(income * SPECIAL_DEDUCTION_RATE, 2)
    allowance = MONTHLY_ALLOWANCE * months
    tax = tax_on(np.maximum(income - allowance - special, 0))
    serial = ctx.rng(DEPARTMENT, "serials").permutation(employees.height) + 1
    records = (
        employees.with_columns(
            pl.Series("income", income),
            pl.Series("basic_deduction", allowance),
            pl.Series("special_deduction", special),
            pl.Series("tax_paid", tax),
            pl.Series("serial", serial),
            pl.Series("declared", filed),
            pl.format("1{}0000", pl.col("employer_division")).alias("tax_office"),
        )
        .sort("tax_office", "employer_code", "serial")
        .select(
            pl.format(
                "{}{}{}",
                pl.lit(str(year)),
                pl.col("employer_division"),
                pl.col("serial").cast(pl.String).str.zfill(9),
            ).alias("record_id"),
            pl.col("identity_number").alias("taxpayer_id"),
            pl.lit("居民身份证").alias("id_type"),
            pl.col("name"),
            pl.lit(year).alias("tax_year"),
            pl.format(
                "{}-{}", pl.lit(str(year)), pl.col("period").cast(pl.String).str.zfill(2)
            ).alias("tax_period"),
            pl.lit("正常工资薪金所得").alias("income_item"),
            pl.col("income"),
            pl.col("basic_deduction"),
            pl.col("special_deduction"),
            pl.col("tax_paid"),
            pl.col("employer_name").alias("withholding_agent"),
            pl.col("employer_code").alias("withholding_agent_code"),
            pl.col("tax_office"),
            pl.from_epoch(pl.col("declared"), time_unit="s")
            .dt.strftime("%Y-%m-%dT%H:%M:%S+08:00")
            .alias("declared_at"),
            pl.when(pl.col("tax_violation")).then(pl.lit(_VIOLATOR)).alias("credit_flag"),
            pl.col("pid"),
            pl.col("tax_office").alias("_office"),
        )
    )
    return emit(
        ctx,
        DEPARTMENT,
        records,
        roles=FieldRoles(
            identity="taxpayer_id",
            name="name",
            required=("name", "withholding_agent", "withholding_agent_code", "income"),
        ),
        fmt=FileFormat("jsonl"),
        stem=f"iit_{year}",
        partition="_office",
        record_id="record_id",
        quality=0.6,
    )
