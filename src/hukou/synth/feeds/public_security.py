"""公安 户籍登记: the household register, authoritative for identity, slow on residence.

Who: everyone registered in the city (natives, people who moved within it, people
registered here who live elsewhere); migrants registered in their home county are
not in it. A few native children were never registered (they surface later as a
data-quality issue). Deaths in the last weeks of the year are not yet recorded.

How: one GBK CSV per registered district (``hjdj_<code>.csv``), Chinese headers,
words for codes (男/女, 汉族, 户主/配偶/子/女), birth dates as YYYYMMDD. The address
is the registered one (户籍地址): the register does not know where people live.
Columns and defects are documented in docs/synth/feeds.md.
"""

from __future__ import annotations

import datetime

import polars as pl

from hukou.standards.codelists import ETHNICITY
from hukou.synth.defects import FieldRoles
from hukou.synth.feeds.base import FeedContext, emit
from hukou.synth.writers import FileFormat

__all__ = ["DEPARTMENT", "write"]

DEPARTMENT = "public_security"
# Deaths and births reach the register weeks after they happen.
_DEATH_REPORTING_LAG_DAYS = 21
_BIRTH_REGISTRATION_LAG_DAYS = 30
_MARITAL_WORDS = {
    "10": "未婚",
    "20": "已婚",
    "21": "已婚",
    "22": "已婚",
    "23": "已婚",
    "30": "丧偶",
    "40": "离婚",
}
_EDUCATION_WORDS = {
    "81": "小学",
    "71": "初中",
    "61": "高中",
    "41": "中专",
    "31": "大专",
    "21": "大学本科",
    "14": "硕士研究生",
    "11": "博士研究生",
}


def write(ctx: FeedContext) -> pl.DataFrame:
    """Write the register and return its truth rows."""
    persons = ctx.population.persons
    snapshot = ctx.cfg.snapshot_date
    registered_here = pl.col("status").is_in(["native", "intra_city", "out_migrant"])
    death_lag = snapshot - datetime.timedelta(days=_DEATH_REPORTING_LAG_DAYS)
    death_known = pl.col("death_date").is_not_null() & (pl.col("death_date") <= death_lag)
    birth_lag = snapshot - datetime.timedelta(days=_BIRTH_REGISTRATION_LAG_DAYS)
    ethnic = {code: ETHNICITY.label(code) for code in ETHNICITY}
    records = persons.filter(
        registered_here & ~pl.col("unregistered") & (pl.col("birth_date") <= birth_lag)
    ).select(
        pl.col("household_id").str.replace("H", "3205").alias("户号"),
        pl.col("identity_number").alias("公民身份号码"),
        pl.col("name").alias("姓名"),
        pl.when(pl.col("sex") == "1").then(pl.lit("男")).otherwise(pl.lit("女")).alias("性别"),
        pl.col("ethnicity").replace_strict(ethnic).alias("民族"),
        pl.col("birth_date").dt.strftime("%Y%m%d").alias("出生日期"),
        pl.when(pl.col("role") == 0)
        .then(pl.lit("户主"))
        .when(pl.col("role") == 1)
        .then(pl.lit("配偶"))
        .when(pl.col("role") == 2)
        .then(pl.when(pl.col("sex") == "1").then(pl.lit("子")).otherwise(pl.lit("女")))
        .otherwise(pl.when(pl.col("sex") == "1").then(pl.lit("父亲")).otherwise(pl.lit("母亲")))
        .alias("与户主关系"),
        pl.col("registered_address").alias("户籍地址"),
        pl.col("registered_division").alias("行政区划代码"),
        pl.col("marital_status").replace_strict(_MARITAL_WORDS, default="未婚").alias("婚姻状况"),
        pl.col("education").replace_strict(_EDUCATION_WORDS, default=None).alias("文化程度"),
        pl.when(death_known).then(pl.lit("死亡")).otherwise(pl.lit("正常")).alias("人员状态"),
        pl.when(death_known).then(pl.col("death_date").dt.strftime("%Y%m%d")).alias("注销日期"),
        pl.col("pid"),
        pl.col("birth_date").dt.year().alias("_birth_year"),
    )
    return emit(
        ctx,
        DEPARTMENT,
        records,
        roles=FieldRoles(
            identity="公民身份号码",
            name="姓名",
            date="出生日期",
            required=("姓名", "性别", "出生日期", "民族"),
        ),
        fmt=FileFormat("csv", encoding="gbk"),
        stem="hjdj",
        partition="行政区划代码",
        quality=0.4,
    )
