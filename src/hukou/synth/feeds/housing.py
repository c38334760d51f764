"""住建 住房租赁登记备案: rental registrations, a strong signal of where people live.

Who: households renting their home whose lease was registered (``rental_registered``),
one row per person named on the contract: the household head always, the spouse
usually, other adults often; children are not listed. Dormitory residents
(collective households) and people living outside the city are not here. The export
holds the registrations that are still running on the extraction day (lease not yet
ended): a lease is renewed every year (some run two years), so most rows are
renewals; the first lease starts on the day the household moved in. A registration
is made days after the lease starts, so leases of the last days are missing.

What it does not know: whether the tenants still live there. Some households moved
out of an earlier flat before its lease ran out and nobody ended the registration:
the old lease is still in the export at the previous address (``stale_lease``; the
record was true, it is out of date). Deaths are not reported to the platform
(``death_not_known`` when a listed tenant died after the lease started).

How: one UTF-8 CSV without BOM (``zlba_<snapshot>.csv``) from a modern platform:
English and pinyin keys, ISO dates, a datetime for the registration, the district
written as its Chinese name. Records are typed by landlords and agents, so defects
are more frequent than in the household register.
Columns and defects are documented in docs/synth/feeds/housing.md.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from hukou.synth.defects import FieldRoles
from hukou.synth.feeds.base import FeedContext, emit
from hukou.synth.geography import DISTRICTS
from hukou.synth.writers import FileFormat

__all__ = ["DEPARTMENT", "write"]

DEPARTMENT = "housing"
_TWO_YEAR_LEASES = 0.15
_NATIVE_TENANCY_YEARS = 8  # natives renting: moved in up to this many years ago
_REGISTRATION_LAG_MEAN_DAYS = 5.0
_REGISTRATION_LAG_MAX_DAYS = 90
_LISTED = {1: 0.85, 2: 0.6, 3: 0.6}  # by role; the head (0) is always listed
# Households that moved within this many days may leave an old lease behind.
_STALE_WINDOW_DAYS = 730
_STALE_LEASE_SHARE = 0.25
# Monthly rent of a flat by district (yuan), before the size and noise factors.
_BASE_RENT = {
    "320508": 3200,
    "320505": 3400,
    "320506": 2600,
    "320507": 2300,
    "320509": 2000,
    "320581": 1900,
    "320582": 1800,
    "320583": 2500,
    "320585": 1800,
}


def write(ctx: FeedContext) -> pl.DataFrame:
    """Write the rental registrations and return their truth rows."""
    snapshot = ctx.cfg.snapshot_date
    persons = ctx.population.persons
    renters = persons.filter((pl.col("tenure") == "rented") & pl.col("rental_registered")).sort(
        "pid"
    )
    households = _leases(ctx, renters)
    # Who is named on the household's contracts (the same people on an old and a new lease).
    listed_share = renters["role"].replace_strict(_LISTED, default=1.0, return_dtype=pl.Float64)
    listed = ctx.rng(DEPARTMENT, "listed").random(renters.height) < listed_share.to_numpy()
    tenants = renters.filter(pl.Series(listed))
    current = _contracts(households, tenants, "start", "end", "registered")
    stale_households = households.filter(pl.col("stale_start").is_not_null())
    stale = _contracts(stale_households, tenants, "stale_start", "stale_end", "stale_registered")
    rows = pl.concat(
        [
            current.with_columns(
                pl.col("address").alias("house_address"),
                pl.when(pl.col("status") != "native")
                .then(pl.col("previous_address"))
                .alias("_previous_address"),
                pl.lit(value=False).alias("_stale"),
            ),
            stale.with_columns(
                pl.col("previous_address").alias("house_address"),
                pl.lit(None, dtype=pl.String).alias("_previous_address"),
                (pl.col("rent") * 0.95 // 50 * 50).cast(pl.Int64).alias("rent"),
                pl.lit(value=True).alias("_stale"),
            ),
        ]
    )
    rows = rows.filter(pl.col("registered").dt.date() <= snapshot)
    # Contract numbers run per district and registration year; the gaps are the
    # contracts that ended or belong to people outside the synthetic population.
    contracts = (
        rows.select("household_index", "_stale", "registered", "actual_division")
        .unique(["household_index", "_stale"])
        .sort("registered", "household_index", "_stale")
    )
    gaps = ctx.rng(DEPARTMENT, "contract_numbers").integers(1, 12, contracts.height)
    contracts = (
        contracts.with_columns(pl.Series("_gap", gaps, dtype=pl.Int64))
        .with_columns(
            pl.format(
                "ZL-{}-{}-{}",
                pl.col("actual_division"),
                pl.col("registered").dt.year(),
                pl.col("_gap")
                .cum_sum()
                .over("actual_division", pl.col("registered").dt.year())
                .cast(pl.String)
                .str.zfill(7),
            ).alias("contract_no")
        )
        .select("household_index", "_stale", "contract_no")
    )
    rows = rows.join(contracts, on=["household_index", "_stale"]).sort(
        "registered", "contract_no", "role", "pid"
    )
    districts = {d.code: d.name for d in DISTRICTS}
    died_after_start = pl.col("death_date").is_not_null()
    records = rows.select(
        pl.col("contract_no"),
        pl.col("name").alias("lessee_name"),
        pl.lit("身份证").alias("lessee_id_type"),
        pl.col("identity_number").alias("lessee_id_no"),
        pl.col("phone").alias("lessee_phone"),
        pl.col("house_address"),
        pl.col("actual_division").replace_strict(districts).alias("district"),
        pl.col("start").dt.strftime("%Y-%m-%d").alias("lease_start"),
        pl.col("end").dt.strftime("%Y-%m-%d").alias("lease_end"),
        pl.col("registered").dt.strftime("%Y-%m-%d %H:%M:%S").alias("registered_at"),
        pl.col("rent").alias("rent_yuan_month"),
        pl.col("pid"),
        pl.col("birth_date").dt.year().alias("_birth_year"),
        pl.col("_previous_address"),
        # Null when there is no semantic defect (emit reads null as none; building a
        # list column of empty lists row by row is slow in inject_defects).
        pl.when(pl.col("_stale") | died_after_start)
        .then(
            pl.concat_list(
                pl.when(pl.col("_stale")).then(pl.lit("stale_lease")),
                pl.when(died_after_start).then(pl.lit("death_not_known")),
            ).list.drop_nulls()
        )
        .alias("_defects"),
    )
    return emit(
        ctx,
        DEPARTMENT,
        records,
        roles=FieldRoles(
            identity="lessee_id_no",
            name="lessee_name",
            date="lease_start",
            address="house_address",
            previous_address="_previous_address",
            required=("lessee_phone", "lessee_id_type", "district", "lease_end"),
        ),
        fmt=FileFormat("csv"),
        stem=f"zlba_{snapshot:%Y%m%d}",
        record_id="contract_no",
        quality=1.3,
    )


def _offset_years(column: str, years: pl.Expr) -> pl.Expr:
    return pl.col(column).dt.offset_by(pl.format("{}y", years))


def _leases(ctx: FeedContext, tenants: pl.DataFrame) -> pl.DataFrame:
    """One row per renting household: the running lease and, for some movers, an old one."""
    snapshot = ctx.cfg.snapshot_date
    household_sizes = tenants.group_by("household_index").agg(pl.len().alias("size"))
    heads = (
        tenants.filter(pl.col("role") == 0)
        .select("household_index", "status", "actual_since", "actual_division")
        .sort("household_index")
    )
    n = heads.height
    rng = ctx.rng(DEPARTMENT, "leases")
    native_anchor = np.datetime64(snapshot, "D") - rng.integers(
        0, 365 * _NATIVE_TENANCY_YEARS, n
    ).astype("timedelta64[D]")
    term = np.where(rng.random(n) < _TWO_YEAR_LEASES, 2, 1)
    lag = np.minimum(
        np.floor(rng.exponential(_REGISTRATION_LAG_MEAN_DAYS, n)), _REGISTRATION_LAG_MAX_DAYS
    )
    seconds = rng.integers(8 * 3600, 21 * 3600, n)
    stale = rng.random(n) < _STALE_LEASE_SHARE
    stale_before = rng.integers(60, 600, n)  # the old lease started this long before the move
    stale_lag = np.minimum(
        np.floor(rng.exponential(_REGISTRATION_LAG_MEAN_DAYS, n)), _REGISTRATION_LAG_MAX_DAYS
    )
    stale_seconds = rng.integers(8 * 3600, 21 * 3600, n)
    base_rent = (
        heads["actual_division"].replace_strict(_BASE_RENT, return_dtype=pl.Float64).to_numpy()
    )
    size = (
        heads.join(household_sizes, on="household_index", how="left")["size"]
        .fill_null(1)
        .to_numpy()
    )
    rent = base_rent * (1 + 0.12 * (size - 1)) * np.exp(rng.normal(0, 0.3, n))
    leases = heads.with_columns(
        pl.when(pl.col("status") == "native")
        .then(pl.Series(native_anchor))
        .otherwise(pl.col("actual_since"))
        .alias("anchor"),
        pl.Series("term", term, dtype=pl.Int32),
        pl.Series("lag", (lag.astype(np.int64) * 86_400 + seconds) * 1000).cast(pl.Duration("ms")),
        pl.Series("stale_lag", (stale_lag.astype(np.int64) * 86_400 + stale_seconds) * 1000).cast(
            pl.Duration("ms")
        ),
        pl.Series("rent", (rent // 50 * 50).astype(np.int64)),
        pl.Series("_stale_pick", stale),
        pl.Series("_stale_before", stale_before),
    )
    # The running lease: the last anniversary (every ``term`` years) of moving in.
    periods = (
        (pl.lit(snapshot) - pl.col("anchor")).dt.total_days() / (365.2425 * pl.col("term"))
    ).floor()
    leases = leases.with_columns(periods.cast(pl.Int32).alias("k"))
    candidates = [
        _offset_years("anchor", (pl.col("k") + step) * pl.col("term")) for step in (1, 0, -1)
    ]
    start = (
        pl.when(candidates[0] <= snapshot)
        .then(candidates[0])
        .when(candidates[1] <= snapshot)
        .then(candidates[1])
        .otherwise(candidates[2])
    )
    leases = leases.with_columns(start.alias("start")).with_columns(
        (_offset_years("start", pl.col("term")) - pl.duration(days=1)).alias("end"),
        (pl.col("start").cast(pl.Datetime("us")) + pl.col("lag")).alias("registered"),
    )
    # An old lease at the previous address, not ended when the household moved.
    moved_recently = (pl.col("status") != "native") & (
        (pl.lit(snapshot) - pl.col("anchor")).dt.total_days() < _STALE_WINDOW_DAYS
    )
    stale_start = pl.col("anchor") - pl.duration(days=pl.col("_stale_before"))
    leases = (
        leases.with_columns(stale_start.alias("_old_start"))
        .with_columns(
            pl.when(_offset_years("_old_start", pl.lit(2)) > snapshot)
            .then(2)
            .otherwise(3)
            .alias("_old_term")
        )
        .with_columns(
            (_offset_years("_old_start", pl.col("_old_term")) - pl.duration(days=1)).alias(
                "_old_end"
            )
        )
    )
    stale_ok = pl.col("_stale_pick") & moved_recently & (pl.col("_old_end") >= snapshot)
    return leases.with_columns(
        pl.when(stale_ok).then(pl.col("_old_start")).alias("stale_start"),
        pl.when(stale_ok).then(pl.col("_old_end")).alias("stale_end"),
        pl.when(stale_ok)
        .then(pl.col("_old_start").cast(pl.Datetime("us")) + pl.col("stale_lag"))
        .alias("stale_registered"),
    )


def _contracts(
    leases: pl.DataFrame, tenants: pl.DataFrame, start: str, end: str, registered: str
) -> pl.DataFrame:
    """The listed people of each lease who were adults and alive when it started."""
    people = tenants.join(
        leases.select(
            "household_index",
            pl.col(start).alias("start"),
            pl.col(end).alias("end"),
            pl.col(registered).alias("registered"),
            "rent",
        ),
        on="household_index",
    ).sort("pid")
    adult = _offset_years("birth_date", pl.lit(18)) <= pl.col("start")
    alive = pl.col("death_date").is_null() | (pl.col("death_date") > pl.col("start"))
    return people.filter(adult & alive)
