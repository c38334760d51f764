"""医保 参保与异地就医备案: who is insured in the city; who is insured elsewhere but treated here.

Who: two record types. 参保信息 lists everyone insured in the city's schemes: employees
in 职工基本医疗保险 (insured where their employer pays, migrants included) and
registered residents in 城乡居民基本医疗保险 (insured in their registered district).
Migrants insured at home are not in it, but those who filed a 异地就医备案 (they live
here and get treatment here on their home scheme) are in the second file. Children
never entered in the household register cannot enrol, newborns of the last weeks are
not enrolled yet, people who moved away are not insured here.

What it knows: scheme, status, the employer (职工), the community health centre a
resident chose for 门诊统筹, a phone (a parent's for a child). It learns deaths late:
deaths of the last two months, and some earlier ones, are not yet recorded, so those
records still read 参保缴费 (semantic defect ``death_not_known``); 备案 records of
people who died stay as they were (Suzhou is not told), also ``death_not_known``.

How: 参保信息 from the city's core system, one GB18030 CSV per 参保地 (no BOM,
``cbxx_<code>.csv``), sorted by 人员编号; sex 1/2, dates YYYY.MM.DD. 异地就医备案
downloaded from the national platform as one UTF-8 CSV with a BOM (``ydjy_ba.csv``),
dates 2023年1月5日, the 备案 address as the applicant typed it (can be stale).
Columns and defects are documented in docs/synth/feeds/medical_insurance.md.
"""

from __future__ import annotations

import datetime

import numpy as np
import polars as pl

from hukou.synth.defects import FieldRoles
from hukou.synth.facilities import assign_clinics, clinics
from hukou.synth.feeds.base import FeedContext, emit
from hukou.synth.writers import FileFormat

__all__ = ["DEPARTMENT", "write"]

DEPARTMENT = "medical_insurance"
# 医保 hears of deaths through monthly exchanges with civil affairs and the register.
_DEATH_REPORTING_LAG_DAYS = 60
_DEATH_NEVER_SYNCED = 0.15  # older deaths still not matched at the end of the year
_NEWBORN_ENROLMENT_LAG_DAYS = 45
_SUSPENDED_SHARE = 0.025  # 暂停: an employer in arrears, a resident who has not paid yet
_EMPLOYEE_SCHEME_START = datetime.date(1997, 1, 1)  # 职工医保 records migrated at go-live
_RESIDENT_SCHEME_START = datetime.date(2007, 7, 1)  # 苏州 城镇居民医保
_CROSS_REGION_START = datetime.date(2017, 1, 1)  # national online 备案
_SCHEMES = {"employee": "职工基本医疗保险", "resident": "城乡居民基本医疗保险"}
_WORKING_SHARE = 0.6  # working-age 备案 filed as 常驻异地工作


def _days_after(column: str, offsets: np.ndarray) -> pl.Expr:
    return pl.col(column) + pl.duration(days=pl.lit(pl.Series(offsets)))


def write(ctx: FeedContext) -> pl.DataFrame:
    """Write 参保信息 and 异地就医备案 and return their truth rows."""
    persons = ctx.population.persons
    snapshot = ctx.cfg.snapshot_date
    n = persons.height
    rng = ctx.rng(DEPARTMENT, "records")
    # A child has no phone of their own: the record carries the head of household's.
    head_phone = persons["phone"].gather(persons["head_pid"])
    clinic = assign_clinics(
        persons, clinics(ctx.cfg, ctx.streams, persons), ctx.rng(DEPARTMENT, "clinic")
    )
    dead = pl.col("death_date").is_not_null()
    synced = pl.Series(rng.random(n) >= _DEATH_NEVER_SYNCED)
    death_known = (
        dead
        & (pl.col("death_date") <= snapshot - datetime.timedelta(days=_DEATH_REPORTING_LAG_DAYS))
        & synced
    )
    resident_start = _days_after("birth_date", rng.integers(20, 120, n)).clip(
        lower_bound=pl.lit(_RESIDENT_SCHEME_START)
        + pl.duration(days=pl.lit(pl.Series(rng.integers(0, 5 * 365, n))))
    )
    # Only the columns the two files use: sorting and filtering a wide frame is slow.
    helper = persons.select(
        "pid",
        "identity_number",
        "name",
        "sex",
        "birth_date",
        "death_date",
        "status",
        "registered_division",
        "actual_division",
        "actual_since",
        "address",
        "previous_address",
        "employer_name",
        "employer_division",
        "unregistered",
        "medical_insured",
        "medical_scheme",
        "medical_local",
        "cross_region_medical",
        pl.coalesce("phone", head_phone).alias("_phone"),
        clinic.alias("_clinic"),
        death_known.alias("_death_known"),
        (dead & ~death_known).alias("_death_unknown"),
        pl.Series("_suspended", rng.random(n) < _SUSPENDED_SHARE),
        pl.when(pl.col("medical_scheme") == "employee")
        .then(pl.col("si_start").clip(lower_bound=_EMPLOYEE_SCHEME_START))
        .otherwise(resident_start)
        .clip(upper_bound=snapshot)
        .alias("_since"),
    )
    insured = helper.filter(
        pl.col("medical_insured")
        & pl.col("medical_local")
        & ~pl.col("unregistered")
        & (pl.col("birth_date") <= snapshot - datetime.timedelta(days=_NEWBORN_ENROLMENT_LAG_DAYS))
    ).sort("_since", "pid")
    employee = pl.col("medical_scheme") == "employee"
    enrolment = insured.select(
        pl.format("320500{}", (pl.int_range(pl.len()) + 1).cast(pl.String).str.zfill(14)).alias(
            "人员编号"
        ),
        pl.col("identity_number").alias("证件号码"),
        pl.col("name").alias("姓名"),
        pl.col("sex").alias("性别"),
        pl.col("birth_date").dt.strftime("%Y.%m.%d").alias("出生日期"),
        pl.col("medical_scheme").replace_strict(_SCHEMES).alias("险种类型"),
        pl.when(employee)
        .then(pl.col("employer_division"))
        .otherwise(pl.col("registered_division"))
        .alias("参保地"),
        pl.col("_since").dt.strftime("%Y.%m.%d").alias("参保日期"),
        pl.when(pl.col("_death_known"))
        .then(pl.lit("终止"))
        .when(pl.col("_suspended"))
        .then(pl.lit("暂停"))
        .otherwise(pl.lit("参保缴费"))
        .alias("参保状态"),
        pl.when(employee).then(pl.col("employer_name")).alias("单位名称"),
        pl.when(~employee).then(pl.col("_clinic")).alias("定点医疗机构"),
        pl.col("_phone").alias("联系电话"),
        pl.col("pid"),
        pl.col("birth_date").dt.year().alias("_birth_year"),
        pl.when(pl.col("_death_unknown")).then(pl.lit(["death_not_known"])).alias("_defects"),
    )
    truth_enrolment = emit(
        ctx,
        DEPARTMENT,
        enrolment,
        roles=FieldRoles(
            identity="证件号码",
            name="姓名",
            date="出生日期",
            required=("姓名", "性别", "出生日期", "联系电话"),
        ),
        fmt=FileFormat("csv", encoding="gb18030"),
        stem="cbxx",
        partition="参保地",
        record_id="人员编号",
        quality=0.6,
    )

    registered = helper.filter(pl.col("cross_region_medical"))
    m = registered.height
    earliest = pl.max_horizontal(
        pl.col("actual_since"), pl.col("birth_date"), pl.lit(_CROSS_REGION_START)
    )
    span = (pl.lit(snapshot) - earliest).dt.total_days().clip(lower_bound=0)
    lag = (pl.Series(rng.random(m)) * pl.min_horizontal(span, pl.lit(400))).cast(pl.Int64)
    age = snapshot.year - pl.col("birth_date").dt.year()
    working = (age >= 18) & (age < 60) & pl.Series(rng.random(m) < _WORKING_SHARE)
    cross_region = (
        registered.with_columns((earliest + pl.duration(days=lag)).alias("_filed"))
        .sort("_filed", "pid")
        .select(
            pl.format(
                "YD{}{}",
                pl.col("_filed").dt.strftime("%Y%m%d"),
                (pl.int_range(pl.len()).over("_filed") + 1).cast(pl.String).str.zfill(6),
            ).alias("备案编号"),
            pl.col("identity_number").alias("证件号码"),
            pl.col("name").alias("姓名"),
            pl.col("registered_division").alias("参保地"),
            pl.col("actual_division").alias("就医地"),
            pl.when(working)
            .then(pl.lit("常驻异地工作"))
            .otherwise(pl.lit("异地长期居住"))
            .alias("备案类型"),
            pl.col("_filed").dt.strftime("%Y年%-m月%-d日").alias("备案日期"),
            pl.col("address").alias("居住地址"),
            pl.col("_phone").alias("联系电话"),
            pl.col("pid"),
            pl.col("birth_date").dt.year().alias("_birth_year"),
            pl.col("previous_address").alias("_previous_address"),
            pl.when(dead).then(pl.lit(["death_not_known"])).alias("_defects"),
        )
    )
    truth_cross_region = emit(
        ctx,
        DEPARTMENT,
        cross_region,
        roles=FieldRoles(
            identity="证件号码",
            name="姓名",
            address="居住地址",
            previous_address="_previous_address",
            required=("居住地址", "联系电话"),
        ),
        fmt=FileFormat("csv", encoding="utf-8-sig"),
        stem="ydjy_ba",
        record_id="备案编号",
        quality=0.8,
    )
    return pl.concat([truth_enrolment, truth_cross_region])
