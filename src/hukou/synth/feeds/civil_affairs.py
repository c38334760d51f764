"""民政 婚姻登记 / 死亡登记 / 养老服务: three spreadsheets from three small systems.

Who: (1) ``hydj_<year>.xlsx`` — one row per party of every marriage registered in
the city during the year. A couple registers where one of them holds a Suzhou
hukou; a couple of migrants could only marry at home until the nationwide
registration (全国通办) started on 2025-05-10, after which some marry here; people
registered here but living elsewhere mostly marry where they live. Under-age
couples (men < 22, women < 20) and couples with a partner dead before the date are
not registered. No divorces: the truth has no divorce dates or ex-spouses.
(2) ``swdj_<year>.xlsx`` — deaths in the city during the year as reported by
hospitals and funeral homes: people living elsewhere die elsewhere, a death reaches
the system days after it happens (the last days of the year are missing), and a
few never do. Bodies taken home to another province have no cremation number.
(3) ``ylfw_<year>.xlsx`` — the elderly-subsidy roster kept by the street offices:
Suzhou-registered people living in the city, 80+ receiving 高龄津贴 and a few 60+
receiving 居家养老服务补贴 (an 80+ person can have both rows). The roster is a
different system from death registration: a subsidy is stopped only when the
street office hears of the death, so recent deaths stay on it (``death_not_known``).

How: XLSX from the systems' export buttons, Chinese headers, one sheet each. Dates
of events are Excel serial numbers (45678), the marriage form's birth date is typed
text (1990年05月03日), 男/女, 汉族, education in words (本科, 大专). The marriage
and death systems check ID cards at the counter (few defects); the subsidy roster is
a street-office spreadsheet (more). XLSX has no malformed lines.
Columns and defects are documented in docs/synth/feeds/civil_affairs.md.
"""

from __future__ import annotations

import datetime

import numpy as np
import polars as pl

from hukou.standards import divisions
from hukou.standards.codelists import ETHNICITY
from hukou.synth.defects import FieldRoles
from hukou.synth.feeds.base import FeedContext, emit
from hukou.synth.geography import DISTRICTS
from hukou.synth.writers import FileFormat

__all__ = ["DEPARTMENT", "write"]

DEPARTMENT = "civil_affairs"
_EXCEL_EPOCH = datetime.date(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel's leap-year bug)
# 婚姻登记 became possible anywhere in the country (全国通办) on this day.
_NATIONWIDE_MARRIAGE = datetime.date(2025, 5, 10)
# Share of couples who register in Suzhou, by household status (before / after 通办).
_MARRY_HERE = {
    "native": (0.95, 0.95),
    "intra_city": (0.95, 0.95),
    "out_migrant": (0.7, 0.3),
    "migrant": (0.0, 0.4),
}
_MIN_AGE = {"1": 22, "2": 20}  # 法定婚龄
_EDUCATION_WORDS = {
    "81": "小学",
    "71": "初中",
    "61": "高中",
    "41": "中专",
    "31": "大专",
    "21": "本科",
    "14": "硕士",
    "11": "博士",
}
# Death reports reach the system after an exponential delay; some never do.
_DEATH_LAG_MEAN_DAYS = 6.0
_DEATH_NEVER_REPORTED = 0.01
_CREMATION_AFTER_DAYS = 3
_BODY_TAKEN_HOME = 0.15  # migrants' bodies returned to their home province (no cremation here)
# Subsidies are stopped when the street office hears of a death; some wait for the yearly audit.
_SUBSIDY_STOP_MEAN_DAYS = 60.0
_SUBSIDY_NEVER_STOPPED = 0.05
_SUBSIDY_TAKE_UP = 0.97
_HOME_CARE_SHARE = {60: 0.05, 80: 0.15}  # 居家养老服务补贴 by age band
_HOME_CARE_AMOUNTS = np.array([200, 300, 400])  # by assessed care level
_OLD_AGE_ALLOWANCE = ((100, 1000), (90, 300), (80, 100))  # (minimum age, yuan a month)
_IN_CITY = ("native", "intra_city")


def write(ctx: FeedContext) -> pl.DataFrame:
    """Write the three spreadsheets and return their truth rows."""
    persons = _with_age(ctx)
    return pl.concat([_marriages(ctx, persons), _deaths(ctx, persons), _elderly(ctx, persons)])


def _with_age(ctx: FeedContext) -> pl.DataFrame:
    snapshot = ctx.cfg.snapshot_date
    before_birthday = (pl.col("birth_date").dt.month() * 100 + pl.col("birth_date").dt.day()) > (
        snapshot.month * 100 + snapshot.day
    )
    return ctx.population.persons.with_columns(
        (snapshot.year - pl.col("birth_date").dt.year() - before_birthday.cast(pl.Int32))
        .cast(pl.Int32)
        .alias("_age")
    )


def _serial(column: str) -> pl.Expr:
    """A date as the Excel serial number the system exports (an int cell)."""
    return (pl.col(column) - pl.lit(_EXCEL_EPOCH)).dt.total_days().cast(pl.Int64)


def _sex_word() -> pl.Expr:
    return pl.when(pl.col("sex") == "1").then(pl.lit("男")).otherwise(pl.lit("女"))


def _district_names() -> dict[str, str]:
    return {d.code: d.name for d in DISTRICTS}


def _sequence(*keys: str) -> pl.Expr:
    """1, 2, 3 … within each ``keys`` group, in the frame's row order."""
    return pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(keys)


def _marriages(ctx: FeedContext, persons: pl.DataFrame) -> pl.DataFrame:
    year = ctx.cfg.year
    party = persons.select(
        "pid",
        "sex",
        "name",
        "identity_number",
        "birth_date",
        "ethnicity",
        "education",
        "marital_status",
        "registered_division",
        "death_date",
        "married_in_year",
        "marriage_date",
    )
    heads = persons.filter((pl.col("role") == 0) & (pl.col("spouse_pid") >= 0)).select(
        "pid", "spouse_pid", "status", "actual_division", "registered_division"
    )
    couples = (
        heads.join(
            party.select(
                "pid", "married_in_year", "marriage_date", "sex", "birth_date", "death_date"
            ),
            on="pid",
        )
        .join(
            party.select(
                pl.col("pid").alias("spouse_pid"),
                pl.col("married_in_year").alias("m2"),
                pl.col("marriage_date").alias("d2"),
                pl.col("sex").alias("sex2"),
                pl.col("birth_date").alias("birth2"),
                pl.col("death_date").alias("death2"),
            ),
            on="spouse_pid",
        )
        .filter(pl.col("married_in_year") | pl.col("m2"))
        .with_columns(pl.coalesce("marriage_date", "d2").alias("date"))
    )

    def of_age(sex: str, birth: str) -> pl.Expr:
        minimum = pl.col(sex).replace_strict(_MIN_AGE, return_dtype=pl.Int32)
        reached = pl.col(birth).dt.offset_by(pl.format("{}y", minimum))
        return reached <= pl.col("date")

    def alive_on(death: str) -> pl.Expr:
        return pl.col(death).is_null() | (pl.col(death) > pl.col("date"))

    couples = couples.filter(
        of_age("sex", "birth_date")
        & of_age("sex2", "birth2")
        & alive_on("death_date")
        & alive_on("death2")
    ).sort("pid")
    after = (couples["date"] >= _NATIONWIDE_MARRIAGE).to_numpy()
    status = couples["status"].to_numpy()
    share = np.zeros(couples.height)
    for name, (before_share, after_share) in _MARRY_HERE.items():
        share[status == name] = np.where(after[status == name], after_share, before_share)
    here = ctx.rng(DEPARTMENT, "marriage_place").random(couples.height) < share
    # Suzhou-registered couples marry in the district of the head's hukou, migrants where they live.
    couples = (
        couples.filter(pl.Series(here))
        .with_columns(
            pl.when(pl.col("status") == "migrant")
            .then(pl.col("actual_division"))
            .otherwise(pl.col("registered_division"))
            .alias("registry")
        )
        .filter(pl.col("registry").is_in(list(_district_names())))
    )
    couples = (
        couples.sort("date", "pid")
        .with_columns(
            pl.format(
                "J{}-{}-{}",
                pl.col("registry"),
                pl.lit(year),
                _sequence("registry").cast(pl.String).str.zfill(6),
            ).alias("certificate")
        )
        .select("pid", "spouse_pid", "date", "registry", "certificate")
    )
    parties = (
        pl.concat(
            [
                couples.select("certificate", "date", "registry", pl.col("pid")),
                couples.select(
                    "certificate", "date", "registry", pl.col("spouse_pid").alias("pid")
                ),
            ]
        )
        .join(party, on="pid")
        .sort("date", "certificate", "sex")
    )

    previous_status = ctx.rng(DEPARTMENT, "previous_marital").random(parties.height) < 0.8
    districts = _district_names()
    registries = {
        code: f"苏州市{name}民政局" if name.endswith("区") else f"{name}民政局"
        for code, name in districts.items()
    }
    snapshot = ctx.cfg.snapshot_date
    hukou_names = {
        code: divisions.full_name(code, snapshot)
        for code in parties["registered_division"].unique().to_list()
    }
    ethnic = {code: ETHNICITY.label(code) for code in ETHNICITY}
    records = parties.with_columns(pl.Series("_divorced", previous_status)).select(
        pl.col("certificate").alias("登记证字号"),
        pl.lit("结婚登记").alias("登记类型"),
        _serial("date").alias("登记日期"),
        pl.col("name").alias("当事人"),
        _sex_word().alias("性别"),
        pl.col("identity_number").alias("身份证件号码"),
        pl.col("birth_date").dt.strftime("%Y年%m月%d日").alias("出生日期"),
        pl.col("ethnicity").replace_strict(ethnic).alias("民族"),
        pl.col("education").replace_strict(_EDUCATION_WORDS, default=None).alias("文化程度"),
        pl.when(pl.col("marital_status") == "21")
        .then(pl.lit("未婚"))
        .when(pl.col("_divorced"))
        .then(pl.lit("离婚"))
        .otherwise(pl.lit("丧偶"))
        .alias("婚前婚姻状况"),
        pl.col("registered_division").replace_strict(hukou_names).alias("户籍所在地"),
        pl.col("registry").replace_strict(registries).alias("登记机关"),
        pl.col("pid"),
        pl.col("birth_date").dt.year().alias("_birth_year"),
    )
    return emit(
        ctx,
        DEPARTMENT,
        records,
        roles=FieldRoles(
            identity="身份证件号码",
            name="当事人",
            date="出生日期",
            required=("民族", "文化程度", "户籍所在地"),
        ),
        fmt=FileFormat("xlsx", sheet="婚姻登记"),
        stem=f"hydj_{year}",
        record_id="登记证字号",
        quality=0.3,
    )


def _deaths(ctx: FeedContext, persons: pl.DataFrame) -> pl.DataFrame:
    year = ctx.cfg.year
    snapshot = ctx.cfg.snapshot_date
    districts = _district_names()
    died = persons.filter(
        pl.col("death_date").is_not_null() & pl.col("actual_division").is_in(list(districts))
    )
    rng = ctx.rng(DEPARTMENT, "death_reporting")
    lag = np.ceil(rng.exponential(_DEATH_LAG_MEAN_DAYS, died.height)).astype(np.int64)
    never = rng.random(died.height) < _DEATH_NEVER_REPORTED
    taken_home = (died["status"] == "migrant").to_numpy() & (
        rng.random(died.height) < _BODY_TAKEN_HOME
    )
    days_left = (pl.lit(snapshot) - pl.col("death_date")).dt.total_days()
    deaths = (
        died.with_columns(
            pl.Series("_lag", lag), pl.Series("_never", never), pl.Series("_home", taken_home)
        )
        .filter((days_left >= pl.col("_lag")) & ~pl.col("_never"))
        .sort("death_date", "pid")
        .with_columns(
            _sequence("actual_division").alias("_seq"),
            (~pl.col("_home") & (days_left >= _CREMATION_AFTER_DAYS)).alias("_cremated"),
        )
        .with_columns(
            pl.when(pl.col("_cremated"))
            .then(_sequence("actual_division", "_cremated"))
            .alias("_cremation_seq")
        )
    )
    records = deaths.select(
        pl.format(
            "{}-{}-{}",
            pl.col("actual_division"),
            pl.lit(year),
            pl.col("_seq").cast(pl.String).str.zfill(6),
        ).alias("死亡证明编号"),
        pl.col("name").alias("姓名"),
        _sex_word().alias("性别"),
        pl.col("identity_number").alias("身份证号"),
        _serial("death_date").alias("死亡日期"),
        pl.col("actual_division").replace_strict(districts).alias("死亡地点"),
        pl.when(pl.col("_cremated"))
        .then(
            pl.format(
                "HH{}{}{}",
                pl.col("actual_division").str.slice(2),
                pl.lit(year),
                pl.col("_cremation_seq").cast(pl.String).str.zfill(5),
            )
        )
        .alias("火化证明编号"),
        pl.col("pid"),
        pl.col("birth_date").dt.year().alias("_birth_year"),
    )
    return emit(
        ctx,
        DEPARTMENT,
        records,
        roles=FieldRoles(identity="身份证号", name="姓名", required=("性别", "死亡地点")),
        fmt=FileFormat("xlsx", sheet="死亡登记"),
        stem=f"swdj_{year}",
        record_id="死亡证明编号",
        quality=0.6,
    )


def _elderly(ctx: FeedContext, persons: pl.DataFrame) -> pl.DataFrame:
    year = ctx.cfg.year
    snapshot = ctx.cfg.snapshot_date
    districts = _district_names()
    elders = persons.filter(pl.col("status").is_in(_IN_CITY) & (pl.col("_age") >= 60)).sort("pid")
    n = elders.height
    rng = ctx.rng(DEPARTMENT, "subsidy")
    age = elders["_age"].to_numpy()
    allowance = (age >= 80) & (rng.random(n) < _SUBSIDY_TAKE_UP)
    home_share = np.where(age >= 80, _HOME_CARE_SHARE[80], _HOME_CARE_SHARE[60])
    home_care = rng.random(n) < home_share
    care_amount = _HOME_CARE_AMOUNTS[rng.integers(0, len(_HOME_CARE_AMOUNTS), n)]
    # Still on the roster after death: the stop has not reached the roster yet.
    stop_after = np.ceil(rng.exponential(_SUBSIDY_STOP_MEAN_DAYS, n))
    stop_after[rng.random(n) < _SUBSIDY_NEVER_STOPPED] = np.inf
    days_dead = (
        elders.select((pl.lit(snapshot) - pl.col("death_date")).dt.total_days().fill_null(-1))
        .to_series()
        .to_numpy()
    )
    listed = days_dead < stop_after  # alive people have -1
    allowance_amount = np.zeros(n, dtype=np.int64)
    for minimum, amount in reversed(_OLD_AGE_ALLOWANCE):
        allowance_amount[age >= minimum] = amount
    base = elders.with_columns(
        pl.Series("_dead_listed", days_dead >= 0),
        pl.Series("_allowance", allowance & listed),
        pl.Series("_home_care", home_care & listed),
        pl.Series("_allowance_amount", allowance_amount),
        pl.Series("_care_amount", care_amount.astype(np.int64)),
    )
    rows = pl.concat(
        [
            base.filter("_allowance").with_columns(
                pl.lit("高龄津贴").alias("_type"),
                pl.col("_allowance_amount").alias("_amount"),
                pl.lit(0).alias("_order"),
            ),
            base.filter("_home_care").with_columns(
                pl.lit("居家养老服务补贴").alias("_type"),
                pl.col("_care_amount").alias("_amount"),
                pl.lit(1).alias("_order"),
            ),
        ]
    ).sort("actual_division", "_order", "pid")
    moved = pl.col("status") != "native"
    records = rows.select(
        pl.col("name").alias("服务对象姓名"),
        pl.col("identity_number").alias("身份证号码"),
        pl.col("_age").alias("年龄"),
        pl.col("_type").alias("服务类型"),
        pl.col("_amount").alias("补贴金额"),
        pl.col("actual_division").replace_strict(districts).alias("所属区"),
        pl.col("address").alias("居住地址"),
        pl.col("pid"),
        pl.col("birth_date").dt.year().alias("_birth_year"),
        pl.when(moved).then(pl.col("previous_address")).alias("_previous_address"),
        # Null when there is no semantic defect: emit reads null as none.
        pl.when(pl.col("_dead_listed")).then(pl.lit(["death_not_known"])).alias("_defects"),
    )
    return emit(
        ctx,
        DEPARTMENT,
        records,
        roles=FieldRoles(
            identity="身份证号码",
            name="服务对象姓名",
            address="居住地址",
            previous_address="_previous_address",
            required=("年龄", "居住地址"),
        ),
        fmt=FileFormat("xlsx", sheet="养老服务补贴"),
        stem=f"ylfw_{year}",
        quality=1.2,
    )
