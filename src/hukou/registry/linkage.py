"""Record linkage: which department records describe the same person.

Pure logic over a Polars frame of standardised records (the database glue reads
``registry_record`` and writes the clusters back; golden records are built on the
clusters). Three stages, cheapest and surest first:

1. **Exact.** A valid identity number (GB 11643, checked and upgraded to 18 digits at
   ingest) is the person: every record carrying it is in one cluster, whose id is
   derived from the number but never shows it. About 98 % of records end here, at
   the cost of a group-by.
2. **Probabilistic.** The rest (no number, or one that fails its check because a
   digit was mistyped, two were transposed, the check character is wrong …) are
   scored with Splink (Fellegi-Sunter, DuckDB backend) against every record and
   against each other, on the identity number (edit distance, check-character
   aware), the name keys (simplified hanzi, pinyin, with term-frequency
   adjustment so that 张伟 counts less than 欧阳靖远), birth date, sex, address.
   Parameters are estimated on the data: ``u`` by random sampling, ``m`` by
   expectation maximisation on blocked pairs (the identity number's again on the
   pairs actually scored), the prior from the exact stage.
3. **Clustering under a constraint.** Pairs at or above the threshold are joined,
   strongest first; a join that would put two different valid identity numbers in
   one cluster is refused and flagged for a person to look at, because a valid
   number is the strongest evidence there is and two of them mean two people (or a
   fraud, or a clerk's copy of the wrong number) — never a silent merge. Pairs in
   the review band go to a review queue with the values to compare side by side.

Everything is deterministic: the same records give the same clusters (Splink's
sampling is seeded and hash-based, edges are ordered before clustering).

:func:`pairwise_scores` scores clusters against a truth in O(n) and
:func:`splink_baseline` runs Splink's documented default workflow on the same
records, so that the value of the exact stage and the name keys can be measured.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import duckdb
import polars as pl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink import comparison_level_library as cll
from splink import comparison_library as cl
from splink.blocking_rule_library import CustomRule
from splink.internals.exceptions import EMTrainingException

from hukou.standards.errors import StandardsError
from hukou.standards.names import name_key

if TYPE_CHECKING:
    from splink.internals.blocking_rule_creator import BlockingRuleCreator
    from splink.internals.comparison_creator import ComparisonCreator
    from splink.internals.splink_dataframe import SplinkDataFrame

__all__ = [
    "BIRTH_DATE_DISAGREES",
    "BLOCKING_KEY_COLUMNS",
    "CLERICAL",
    "REQUIRED_COLUMNS",
    "REVIEW_BAND",
    "SEX_DISAGREES",
    "TWO_VALID_NUMBERS",
    "LinkageResult",
    "blocking_keys",
    "link_records",
    "pairwise_scores",
    "splink_baseline",
]

REQUIRED_COLUMNS: Final = (
    "record_key",
    "department",
    "identity_number",
    "identity_valid",
    "name",
    "sex",
    "birth_date",
)
"""Columns :func:`link_records` needs; ``address``, ``registered_division`` and
``identity_index`` (the registry's keyed digest of a valid number) are optional."""

# Reasons in ``flags`` and ``review_pairs``.
TWO_VALID_NUMBERS: Final = "two_valid_identity_numbers"
REVIEW_BAND: Final = "review_band"
BIRTH_DATE_DISAGREES: Final = "birth_date_disagrees"
SEX_DISAGREES: Final = "sex_disagrees"
# Method of a record joined to its cluster by a clerk's "same" decision.
CLERICAL: Final = "clerical"

# One column per blocking key (see _BLOCKING_KEYS, in the same order): keyed digests
# of what each rule joins on, so that an incremental run finds in the database the
# records a full run would have paired with a new record.
BLOCKING_KEY_COLUMNS: Final = (
    "k_birth",
    "k_hanzi_year",
    "k_n14",
    "k_n7_18",
    "k_n6_15",
    "k_py6",
    "k_py15",
)
# Comparisons with term-frequency adjustments: their tables travel with the model.
_TF_COLUMNS: Final = ("name_hanzi", "name_pinyin", "address")
_TF_SCHEMA: Final = pl.Schema({"column": pl.String, "value": pl.String, "tf": pl.Float64})

# Splink's sampling sizes. u: random pairs are almost all non-matches, and the rare
# levels (two numbers one edit apart) need many pairs to be seen at all. EM: enough
# blocked pairs for stable m, few enough that training stays seconds at 1M people.
_U_MAX_PAIRS: Final = 5e6
_EM_MAX_PAIRS: Final = 2e6
_DEFAULT_SEED: Final = 20251231

_SPLINK_LOGGER: Final = "splink"
_INPUT_TABLE: Final = "hukou_linkage_input"

_CLUSTER_SCHEMA: Final = pl.Schema(
    {
        "record_key": pl.Int64,
        "cluster_id": pl.String,
        "method": pl.String,
        "probability": pl.Float64,
    }
)
_FLAG_SCHEMA: Final = pl.Schema(
    {
        "cluster_id": pl.String,
        "reason": pl.String,
        "other_cluster_id": pl.String,
        "record_key_l": pl.Int64,
        "record_key_r": pl.Int64,
        "probability": pl.Float64,
    }
)
_EDGE_SCHEMA: Final = pl.Schema(
    {
        "record_key_l": pl.Int64,
        "record_key_r": pl.Int64,
        "probability": pl.Float64,
        "match_weight": pl.Float64,
    }
)
# What a reviewer sees of each side of a pair.
_REVIEW_VALUES: Final = (
    "department",
    "name",
    "name_hanzi",
    "birth_date",
    "sex",
    "identity_number",
    "identity_valid",
    "address",
    "registered_division",
)


@dataclass(frozen=True, slots=True)
class LinkageResult:
    """What linkage found.

    ``clusters``
        One row per input record: ``record_key``, ``cluster_id`` (``N:…`` derived from
        a valid identity number, ``R:<record_key>`` for a cluster without one),
        ``method`` (``exact``: by its valid number; ``probabilistic``: joined by a
        scored pair; ``singleton``: nothing found) and ``probability`` (the best
        accepted pair's, for ``probabilistic``; else null).
    ``review_pairs``
        Pairs a person should decide: scored in the review band, or above the
        threshold but refused because they would join two valid numbers (``reason``).
        Each side's values are there for a side-by-side view (``…_l``/``…_r``);
        ``identity_number_l/_r`` are in clear and must be treated as such.
    ``flags``
        ``cluster_id``, ``reason`` and the evidence: a refused join (two valid
        numbers, with the other cluster and the pair) or records sharing a valid
        number that disagree on birth date or sex (a number typed on the wrong
        person's record).
    ``stats``
        Counts, timings per stage and the model's prior, for logs and benchmarks;
        ``stats["model"]`` and ``stats["term_frequencies"]`` (a frame: ``column``,
        ``value``, ``tf``) are what an incremental run needs to score as this run did.
    ``keys``
        With ``key_secret``: ``record_key``, ``needs_link`` and the keyed digests of
        :data:`BLOCKING_KEY_COLUMNS`, one row per record; else ``None``.
    """

    clusters: pl.DataFrame
    review_pairs: pl.DataFrame
    flags: pl.DataFrame
    stats: dict[str, Any] = field(default_factory=dict)
    keys: pl.DataFrame | None = None


# --------------------------------------------------------------------------- input


def _check_input(records: pl.DataFrame) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in records.columns]
    if missing:
        raise ValueError(f"records lack column(s): {', '.join(missing)}")
    if records["record_key"].null_count() or records["record_key"].n_unique() != records.height:
        raise ValueError("record_key must be unique and not null")
    if not records.schema["record_key"].is_integer():
        raise ValueError("record_key must be an integer column")


def _name_keys(names: pl.Series) -> pl.DataFrame:
    """Hanzi and pinyin keys for each distinct name (pypinyin is slow: once per name).

    A name with no key (empty after normalisation) gets nulls: a blank must never
    match another blank.
    """
    distinct = names.drop_nulls().unique(maintain_order=False).sort().to_list()
    hanzi: list[str | None] = []
    pinyin: list[str | None] = []
    for raw in distinct:
        try:
            key = name_key(raw)
        except StandardsError:
            hanzi.append(None)
            pinyin.append(None)
            continue
        hanzi.append(key.hanzi)
        pinyin.append(key.pinyin or None)
    return pl.DataFrame(
        {"name": distinct, "name_hanzi": hanzi, "name_pinyin": pinyin},
        schema={"name": pl.String, "name_hanzi": pl.String, "name_pinyin": pl.String},
    )


def _exact_units(frame: pl.DataFrame) -> pl.DataFrame:
    """The exact cluster id of each valid number: ``N:`` + 16 hex characters.

    Stable across runs and databases, and not the number. By default the digest is
    SHA-256 of the number, which hides it from a reader but not from someone who
    hashes every possible number (about 10^11 of them); the registry's glue should
    pass ``identity_index`` (its keyed HMAC of the number) and that is used instead.
    """
    per_number = (
        frame.filter("identity_valid")
        .group_by("identity_number")
        .agg(pl.col("identity_index").drop_nulls().min().alias("index"))
        .sort("identity_number")
    )
    hashed = [
        "N:" + hashlib.sha256(number.encode("utf-8")).hexdigest()[:16]
        for number in per_number["identity_number"].to_list()
    ]
    return per_number.with_columns(
        pl.coalesce(
            pl.lit("N:") + pl.col("index").str.slice(0, 16),
            pl.Series("hashed", hashed, dtype=pl.String),
        ).alias("unit")
    ).select("identity_number", "unit")


def _prepare(records: pl.DataFrame) -> pl.DataFrame:
    """The comparison frame: name keys, dates and sex read from valid numbers, units.

    A valid number encodes birth date and sex: where a department did not send them
    (tax, housing) they are taken from the number, which gives the records of that
    person something to be compared on against a record whose number is mistyped.
    The stated values are kept (``stated_…``) for the consistency flags.

    ``unit`` is what clustering starts from: the exact cluster of a valid number, or
    ``R:<record_key>`` for a record needing a link.
    """
    frame = records.select(
        pl.col("record_key").cast(pl.Int64),
        pl.col("department").cast(pl.String),
        pl.col("identity_number").cast(pl.String).str.strip_chars().replace("", None),
        pl.col("identity_valid").cast(pl.Boolean).fill_null(value=False),
        pl.col("name").cast(pl.String),
        pl.col("sex").cast(pl.String),
        pl.col("birth_date").cast(pl.Date),
        *(
            pl.col(c).cast(pl.String).str.strip_chars().replace("", None)
            if c in records.columns
            else pl.lit(None, dtype=pl.String).alias(c)
            for c in ("address", "registered_division", "identity_index")
        ),
    )
    valid = pl.col("identity_valid") & pl.col("identity_number").is_not_null()
    number = pl.col("identity_number")
    frame = frame.with_columns(
        valid.alias("identity_valid"),
        pl.col("birth_date").alias("stated_birth_date"),
        pl.col("sex").alias("stated_sex"),
        pl.when(valid)
        .then(pl.coalesce("birth_date", _birth_date_in(number)))
        .otherwise("birth_date")
        .alias("birth_date"),
        pl.when(valid).then(pl.coalesce("sex", _sex_in(number))).otherwise("sex").alias("sex"),
        (~valid).alias("needs_link"),
        number.str.slice(0, 6).alias("id_head"),
        number.str.slice(6, 6).alias("id_mid"),
        number.str.tail(6).alias("id_tail"),
    )
    return (
        frame.join(_exact_units(frame), on="identity_number", how="left")
        .join(_name_keys(frame["name"]), on="name", how="left")
        .with_columns(
            pl.when("identity_valid")
            .then("unit")
            .otherwise(pl.lit("R:") + pl.col("record_key").cast(pl.String))
            .alias("unit")
        )
        .sort("record_key")
    )


def _birth_date_in(number: pl.Expr) -> pl.Expr:
    """The birth date digits of an 18-character number (null if not a date)."""
    return number.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)


def _sex_in(number: pl.Expr) -> pl.Expr:
    """GB 11643: the 17th digit is odd for a man ("1"), even for a woman ("2")."""
    digit = number.str.slice(16, 1).cast(pl.Int32, strict=False)
    return (
        pl.when(digit.is_null())
        .then(None)
        .when(digit % 2 == 1)
        .then(pl.lit("1"))
        .otherwise(pl.lit("2"))
    )


# --------------------------------------------------------------------------- Splink model


class _SplinkLog(logging.Handler):
    """Collects what Splink logs at WARNING and above during one run.

    Splink talks a lot: every SQL stage and EM iteration at INFO, and at WARNING
    things such as "level not observed in dataset, unable to train m value" — which
    on a small town is expected and is dealt with here (see :func:`_complete_model`).
    Splink is given ``log_level=None`` so that it installs no stream handler of its
    own; for the duration of a run this handler takes its records instead of the
    application's handlers, and they are returned in ``stats["splink_warnings"]``:
    nothing printed, nothing lost. Logger level, propagation and handlers are
    restored afterwards.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(" ".join(record.getMessage().split()))


@contextlib.contextmanager
def _captured_splink_log() -> Iterator[_SplinkLog]:
    """Collect Splink's warnings; silence it unless the application configured it.

    An application that set a level or a handler on the ``splink`` logger (to debug
    a linkage run, say) keeps exactly what it asked for; the collecting handler is
    only added beside its own.
    """
    splink_logger = logging.getLogger(_SPLINK_LOGGER)
    configured = splink_logger.level != logging.NOTSET or bool(splink_logger.handlers)
    saved = (splink_logger.level, splink_logger.propagate)
    handler = _SplinkLog()
    splink_logger.addHandler(handler)
    if not configured:
        splink_logger.setLevel(logging.WARNING)
        splink_logger.propagate = False
    try:
        yield handler
    finally:
        splink_logger.removeHandler(handler)
        splink_logger.setLevel(saved[0])
        splink_logger.propagate = saved[1]


def _number_comparison() -> cl.CustomComparison:
    """Identity numbers: exact, check character only, one edit, same birthplace.

    One comparison, not two: the birthplace code is the number's first six
    characters, and scoring it separately would count the same evidence twice
    (Fellegi-Sunter assumes comparisons independent given match status). Levels are
    tried in order, so "birthplace" means "same birthplace, number otherwise far".

    Damerau-Levenshtein counts a transposition as one edit, the commonest keying
    error after a wrong digit. A number differing only in its check character is a
    level of its own: the 17 digits that carry the information agree. There is no
    "two edits" level on purpose: two people born on the same day in the same
    county have numbers two edits apart (one sequence digit and the check
    character), so that level would mostly re-count the birth-date agreement — on
    a 20,000-person city it scored two such strangers at 0.99.

    DuckDB's ``damerau_levenshtein`` costs ~5 µs a pair, which made ``u`` sampling
    (millions of random pairs) the slowest step. It is only computed when one of
    the number's three six-character blocks agrees (``id_head``, ``id_mid``,
    ``id_tail``, the last six): one edit, even a transposition across a block
    boundary or a dropped digit, always leaves one block intact, so the guard loses
    nothing, and random pairs fail it ~96 % of the time.
    """
    n = "identity_number"
    # A CASE, not "guard AND distance": DuckDB evaluates both sides of an AND on the
    # whole vector, but a CASE branch only on the rows that reach it.
    distance = (
        "(CASE WHEN id_head_l = id_head_r OR id_mid_l = id_mid_r OR id_tail_l = id_tail_r "
        f"THEN damerau_levenshtein({n}_l, {n}_r) ELSE 99 END)"
    )
    return cl.CustomComparison(
        output_column_name=n,
        comparison_description="identity number (GB 11643)",
        comparison_levels=[
            cll.NullLevel(n),
            cll.ExactMatchLevel(n),
            cll.CustomLevel(
                f"id_head_l = id_head_r AND length({n}_l) = 18 AND length({n}_r) = 18 "
                f"AND substr({n}_l, 1, 17) = substr({n}_r, 1, 17)",
                label_for_charts="same first 17 characters (check character differs)",
            ),
            cll.CustomLevel(
                f"{distance} <= 1", label_for_charts="Damerau-Levenshtein distance <= 1"
            ),
            cll.CustomLevel(
                "id_head_l = id_head_r",
                label_for_charts="same birthplace code (first 6 characters)",
            ),
            cll.ElseLevel(),
        ],
    )


def _name_comparison() -> cl.CustomComparison:
    """Names by their keys: same characters, same sound, one character off, similar sound.

    Exact levels carry term-frequency adjustments: agreeing on 张伟 is weak evidence,
    agreeing on a rare name strong. The pinyin level catches homophones typed at a
    counter (张伟/张玮), the one-character level look-alikes (王/玉); traditional
    characters are already simplified in the hanzi key.
    """
    return cl.CustomComparison(
        output_column_name="name",
        comparison_description="name keys (simplified hanzi, pinyin)",
        comparison_levels=[
            cll.NullLevel("name_hanzi"),
            cll.ExactMatchLevel("name_hanzi", term_frequency_adjustments=True),
            cll.ExactMatchLevel("name_pinyin", term_frequency_adjustments=True),
            cll.DamerauLevenshteinLevel("name_hanzi", 1),
            cll.JaroWinklerLevel("name_pinyin", 0.9),
            cll.ElseLevel(),
        ],
    )


def _birth_date_comparison() -> cl.CustomComparison:
    """Birth dates: exact, same year and month (a mistyped day), within a year."""
    return cl.CustomComparison(
        output_column_name="birth_date",
        comparison_description="birth date",
        comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date"),
            cll.CustomLevel(
                "year(birth_date_l) = year(birth_date_r) "
                "AND month(birth_date_l) = month(birth_date_r)",
                label_for_charts="same year and month",
            ),
            cll.AbsoluteDateDifferenceLevel(
                "birth_date", input_is_string=False, threshold=1, metric="year"
            ),
            cll.ElseLevel(),
        ],
    )


def _address_comparison() -> cl.CustomComparison:
    """Addresses: exact (term-frequency adjusted: a dormitory is shared), similar."""
    return cl.CustomComparison(
        output_column_name="address",
        comparison_description="address",
        comparison_levels=[
            cll.NullLevel("address"),
            cll.ExactMatchLevel("address", term_frequency_adjustments=True),
            cll.JaroWinklerLevel("address", 0.9),
            cll.ElseLevel(),
        ],
    )


# Keys on which a record needing a link meets its candidates. Each is an equi-join
# (hash join in DuckDB); see _prediction_rules for why each comes twice.
_BLOCKING_KEYS: Final = (
    # Records with a birth date: about 120 records share one at 1M people (3M records).
    "l.birth_date = r.birth_date",
    # A mistyped birth date, with the name as written.
    "l.name_hanzi = r.name_hanzi AND year(l.birth_date) = year(r.birth_date)",
    # A typo in the sequence number or the check character: address + birth date agree.
    "substr(l.identity_number, 1, 14) = substr(r.identity_number, 1, 14)",
    # A typo in the address code.
    "substr(l.identity_number, 7, 12) = substr(r.identity_number, 7, 12)",
    # A typo in the birth-date digits: address code + sequence + check agree.
    "substr(l.identity_number, 1, 6) = substr(r.identity_number, 1, 6) "
    "AND substr(l.identity_number, 15, 4) = substr(r.identity_number, 15, 4)",
    # Transpositions across those boundaries, with the name right.
    "l.name_pinyin = r.name_pinyin "
    "AND substr(l.identity_number, 1, 6) = substr(r.identity_number, 1, 6)",
    "l.name_pinyin = r.name_pinyin "
    "AND substr(l.identity_number, 15, 4) = substr(r.identity_number, 15, 4)",
)


# Phase 2 of training (see _score): pairs with a record needing a link, found by birth
# date, or by name for records without one (tax, housing). One side suffices: the
# dedupe join keeps l.record_key < r.record_key, so "l" is a random half of them.
_NUMBER_TRAINING_RULES: Final = (
    "l.birth_date = r.birth_date AND l.needs_link",
    "l.name_pinyin = r.name_pinyin AND l.needs_link",
)


def _prediction_rules() -> list[CustomRule]:
    """Each key twice: once with the record needing a link on the left, once right.

    Only pairs with at least one record lacking a valid number are worth scoring
    (two valid numbers are settled by the exact stage). Written as one rule with an
    OR, DuckDB would join all 3M records with all 3M on the key and filter after;
    as two rules, each side's filter is pushed below the join, and ~60k records
    meet 3M instead. Splink removes the pairs both rules produce.
    """
    return [
        CustomRule(f"{key} AND {side}.needs_link") for key in _BLOCKING_KEYS for side in ("l", "r")
    ]


def _settings(*, with_address: bool, with_division: bool, prior: float) -> SettingsCreator:
    """The model before training; address and division only when some record has one.

    A comparison on a column that is null everywhere could never be trained.
    Matching and intermediate columns are not retained: the review frame takes the
    values from the input, and 11M scored pairs at 1M people stay narrow.
    """
    comparisons: list[ComparisonCreator | dict[str, Any]] = [
        _number_comparison(),
        _name_comparison(),
        _birth_date_comparison(),
        cl.ExactMatch("sex"),
    ]
    if with_address:
        comparisons.append(_address_comparison())
    if with_division:
        comparisons.append(cl.ExactMatch("registered_division"))
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_key",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=list(_prediction_rules()),
        probability_two_random_records_match=prior,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def _exact_pairs(frame: pl.DataFrame) -> float:
    """Pairs of records sharing a valid number: the matches the exact stage found."""
    sizes = frame.filter("identity_valid").group_by("unit").len()["len"]
    return float((sizes * (sizes - 1) / 2).sum())


def _prior(frame: pl.DataFrame) -> float:
    """Probability that two random records match, from the exact stage.

    Pairs within exact clusters are matches found by the number; they are a share
    ``valid_share ** 2`` of all true pairs (both records of a pair must carry a valid
    number), which scales them up to an estimate of all matching pairs.
    """
    n = frame.height
    total = n * (n - 1) / 2
    if total <= 0:
        return 1e-6
    valid_share = int(frame["identity_valid"].sum()) / n
    recall = max(valid_share**2, 0.05)
    prior = _exact_pairs(frame) / recall / total
    return min(max(prior, 1e-9), 0.5)


def _to_polars(table: SplinkDataFrame) -> pl.DataFrame:
    """A Splink result as a Polars frame (through DuckDB's Arrow export, no copy)."""
    frame: pl.DataFrame = table.as_duckdbpyrelation().pl()
    return frame


def _complete_model(
    model: dict[str, Any], *, u_pairs: float, match_pairs: float, only: str | None = None
) -> list[str]:
    """Give every level an m and a u the data supports; return what was changed.

    EM cannot estimate m for a level no blocked pair of matches falls into (on a
    small town: two names one pinyin letter apart), and random sampling cannot see
    u for a level almost no random pair reaches; Splink would then use a built-in
    default, i.e. an arbitrary weight. And where EM did estimate, it can be
    absurdly sure: if no matching pair in training disagreed on sex, m comes out as
    1e-14 and a single wrong sex code would veto a match however much else agrees.
    So, by the "rule of three" (an event not seen in n trials has a 95 % upper bound
    of 3/n):

    * u unobserved → u = 3 / random pairs sampled (the most cautious weight the
      sample supports);
    * m unobserved → m = u: the level is neutral (weight 0), claiming nothing;
    * m below 3 / matching pairs training saw → raised to that, and the
      comparison's m renormalised.

    ``only`` restricts this to one comparison (after the second training phase,
    which saw far fewer matches, and only re-estimated the identity number).
    """
    changed: list[str] = []
    u_floor = 3.0 / max(u_pairs, 3.0)
    m_floor = min(3.0 / max(match_pairs, 300.0), 0.01)
    for comparison in model["comparisons"]:
        if only is not None and comparison["output_column_name"] != only:
            continue
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        for level in levels:
            label = f"{comparison['output_column_name']}: {level.get('label_for_charts')}"
            if "u_probability" not in level:
                level["u_probability"] = u_floor
                changed.append(f"u unobserved, set to {u_floor:.2g}: {label}")
            if "m_probability" not in level:
                level["m_probability"] = level["u_probability"]
                changed.append(f"m unobserved, level made neutral: {label}")
            elif level["m_probability"] < m_floor:
                changed.append(f"m {level['m_probability']:.2g} raised to {m_floor:.2g}: {label}")
                level["m_probability"] = m_floor
        total = sum(level["m_probability"] for level in levels)
        for level in levels:
            level["m_probability"] /= total
    return changed


def _train_em(linker: Linker, rule: BlockingRuleCreator, skipped: list[str]) -> None:
    """One EM session; a rule that yields no pairs (a tiny frame) is skipped, not fatal.

    Splink raises :class:`EMTrainingException` when the training rule blocks no pair.
    The levels left without an m are then made neutral by :func:`_complete_model`,
    so a frame too small to learn from links nothing probabilistically rather than
    linking on made-up weights; the skipped rule is reported in the stats.
    """
    try:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True, max_pairs=_EM_MAX_PAIRS
        )
    except EMTrainingException as error:
        skipped.append(str(error).splitlines()[0])  # names the rule


def _term_frequencies(data: pl.DataFrame) -> pl.DataFrame:
    """Splink's term frequencies (count / non-null count per value), as one long frame.

    The same formula Splink applies to its input (``term_frequencies_for_single_column_sql``),
    computed here so that they can be stored with the model: an incremental run then
    weighs agreeing on 张伟 as the full run did, not by its frequency among a
    handful of new records.
    """
    parts = []
    for column in _TF_COLUMNS:
        values = data[column].drop_nulls()
        if values.is_empty():
            continue
        counts = values.value_counts(name="count")
        parts.append(
            counts.select(
                pl.lit(column).alias("column"),
                pl.col(column).alias("value"),
                (pl.col("count") / values.len()).alias("tf"),
            )
        )
    if not parts:
        return pl.DataFrame(schema=_TF_SCHEMA)
    return pl.concat(parts).cast(_TF_SCHEMA).sort(["column", "value"])


def _register_term_frequencies(
    con: duckdb.DuckDBPyConnection,
    db_api: DuckDBAPI,
    linker: Linker,
    data: pl.DataFrame,
    stored: pl.DataFrame,
) -> None:
    """Give the linker the stored term frequencies instead of the scope's own.

    A value the full run never saw (a new name) gets the smallest stored frequency
    of its column: it is at least as rare as the rarest value known.
    """
    for column in _TF_COLUMNS:
        known = stored.filter(pl.col("column") == column).select(
            pl.col("value").alias(column), pl.col("tf").alias(f"tf_{column}")
        )
        floor = known[f"tf_{column}"].min() if known.height else None
        unseen = (
            data.select(column)
            .drop_nulls()
            .unique()
            .join(known, on=column, how="anti")
            .with_columns(
                pl.lit(floor if isinstance(floor, float) else 1.0 / max(data.height, 1))
                .cast(pl.Float64)
                .alias(f"tf_{column}")
            )
        )
        table = pl.concat([known, unseen]).cast({column: pl.String, f"tf_{column}": pl.Float64})
        name = f"hukou_tf_{column}"
        con.register(name, table)
        linker.table_management.register_term_frequency_lookup(db_api.register(name), column)


_SCORE_COLUMNS: Final = (
    "record_key",
    "identity_number",
    "id_head",
    "id_mid",
    "id_tail",
    "needs_link",
    "name_hanzi",
    "name_pinyin",
    "birth_date",
    "sex",
    "address",
    "registered_division",
)


def _edges(predictions: SplinkDataFrame) -> pl.DataFrame:
    return _to_polars(predictions).select(
        pl.col("record_key_l").cast(pl.Int64),
        pl.col("record_key_r").cast(pl.Int64),
        pl.col("match_probability").cast(pl.Float64).alias("probability"),
        pl.col("match_weight").cast(pl.Float64),
    )


def _score_with_model(
    frame: pl.DataFrame,
    *,
    model: dict[str, Any],
    term_frequencies: pl.DataFrame,
    lower: float,
    stats: dict[str, Any],
) -> pl.DataFrame:
    """Score the frame's candidate pairs with a model trained earlier (no training).

    For an incremental run: a batch of new records and the persons they may belong
    to are far too few to train on, and a model trained on them would score the
    same pair differently from the full run. The stored model and its term
    frequencies are used as they are; the blocking rules are the model's own.
    """
    data = frame.select(_SCORE_COLUMNS)
    con = duckdb.connect(":memory:")
    try:
        con.register(_INPUT_TABLE, data)
        db_api = DuckDBAPI(connection=con)
        table = db_api.register(_INPUT_TABLE)
        started = time.perf_counter()
        linker = Linker(table, model, log_level=None)
        _register_term_frequencies(con, db_api, linker, data, term_frequencies)
        edges = _edges(linker.inference.predict(threshold_match_probability=lower))
        stats["seconds_predict"] = time.perf_counter() - started
        stats["model_reused"] = True
    finally:
        con.close()
    return edges


def _score(frame: pl.DataFrame, *, lower: float, seed: int, stats: dict[str, Any]) -> pl.DataFrame:
    """Train the model, then score candidate pairs at or above ``lower``.

    Training runs in two phases, because the pairs scored are not typical pairs:

    1. On every record, valid numbers included: ``u`` by random sampling, ``m`` by EM
       blocked on birth date, then on the hanzi name. Pairs sharing a valid number
       are the bulk of the matches EM learns from: how often one person's name is
       written differently across departments, how often a birth date is off.
    2. Only the identity number's ``m`` again, on pairs with a record needing a link
       (every other comparison fixed). Among all matching pairs 96 % agree exactly
       on the number and 1 % differ in the check character; among the pairs actually
       scored — one side's number is invalid — none can agree exactly and a quarter
       differ only in the check character. Scoring those with the first m would
       under-weigh exactly the evidence they have (at 1M people it left a tax record
       with a wrong check character, no birth date and a common name in review).
       The other comparisons' m carry over: a mistyped number says nothing about how
       the name was written.

    Prediction then scores only pairs with a record needing a link (the blocking
    rules say so).
    """
    data = frame.select(_SCORE_COLUMNS)
    with_address = data["address"].null_count() < data.height
    with_division = data["registered_division"].null_count() < data.height
    prior = _prior(frame)
    u_pairs = min(_U_MAX_PAIRS, data.height * (data.height - 1) / 2)
    stats["prior"] = prior
    con = duckdb.connect(":memory:")
    try:
        con.register(_INPUT_TABLE, data)
        db_api = DuckDBAPI(connection=con)
        table = db_api.register(_INPUT_TABLE)
        settings = _settings(with_address=with_address, with_division=with_division, prior=prior)
        trainer = Linker(table, settings, log_level=None)
        started = time.perf_counter()
        trainer.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed)
        stats["seconds_u"] = time.perf_counter() - started
        started = time.perf_counter()
        skipped: list[str] = []
        for rule in (block_on("birth_date"), block_on("name_hanzi")):
            _train_em(trainer, rule, skipped)
        model = trainer.misc.save_model_to_json()
        # Matches seen in training: pairs sharing a valid number; then, for the
        # number's second phase, about one per record needing a link.
        completed = _complete_model(model, u_pairs=u_pairs, match_pairs=_exact_pairs(frame))
        for comparison in model["comparisons"]:
            fixed = comparison["output_column_name"] != "identity_number"
            for level in comparison["comparison_levels"]:
                if not level.get("is_null_level"):
                    level["fix_m_probability"] = fixed
        specialist = Linker(table, model, log_level=None)
        for number_rule in _NUMBER_TRAINING_RULES:
            _train_em(specialist, CustomRule(number_rule), skipped)
        model = specialist.misc.save_model_to_json()
        completed += _complete_model(
            model,
            u_pairs=u_pairs,
            match_pairs=float(frame["needs_link"].sum()),
            only="identity_number",
        )
        stats["seconds_em"] = time.perf_counter() - started
        stats["completed_parameters"] = completed
        stats["em_sessions_skipped"] = skipped
        stats["model"] = model
        stats["term_frequencies"] = _term_frequencies(data)
        started = time.perf_counter()
        linker = Linker(table, model, log_level=None)
        edges = _edges(linker.inference.predict(threshold_match_probability=lower))
        stats["seconds_predict"] = time.perf_counter() - started
    finally:
        con.close()
    return edges


# --------------------------------------------------------------------------- clustering


@dataclass(slots=True)
class _UnionFind:
    """Union-find over units (an exact cluster, or one record needing a link).

    Each root knows the valid number it holds (at most one, by construction), its
    smallest record key, which names a cluster without a number, and the units a
    clerk declared a different person (``apart``): a join that would bring one of
    them in is refused, however the pair was scored and whatever path leads there.
    """

    parent: dict[str, str] = field(default_factory=dict)
    number: dict[str, str | None] = field(default_factory=dict)
    min_key: dict[str, int] = field(default_factory=dict)
    apart: dict[str, set[str]] = field(default_factory=dict)

    def add(self, unit: str, key: int) -> None:
        if unit not in self.parent:
            self.parent[unit] = unit
            self.number[unit] = unit if unit.startswith("N:") else None
            self.min_key[unit] = key
        else:
            root = self.find(unit)
            self.min_key[root] = min(self.min_key[root], key)

    def keep_apart(self, a: str, b: str) -> None:
        """A clerk decided the units are different people: never join their clusters."""
        self.apart.setdefault(self.find(a), set()).add(b)
        self.apart.setdefault(self.find(b), set()).add(a)

    def find(self, unit: str) -> str:
        root = unit
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[unit] != root:  # path compression
            self.parent[unit], unit = root, self.parent[unit]
        return root

    def union(self, a: str, b: str) -> str | None:
        """Join the units' clusters; ``None`` if done (or already one), else why not.

        Refused: ``TWO_VALID_NUMBERS`` (that would put two valid numbers in one
        cluster) or ``"apart"`` (a clerk said the two sides are different people).
        """
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        na, nb = self.number[ra], self.number[rb]
        if na is not None and nb is not None:
            return TWO_VALID_NUMBERS
        if any(self.find(u) == rb for u in self.apart.get(ra, ())) or any(
            self.find(u) == ra for u in self.apart.get(rb, ())
        ):
            return "apart"
        # The root is the side with a number (its id names the cluster), else the
        # side with the smaller key: the result does not depend on edge direction.
        if nb is not None or (na is None and self.min_key[rb] < self.min_key[ra]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.min_key[ra] = min(self.min_key[ra], self.min_key[rb])
        if rb in self.apart:
            self.apart.setdefault(ra, set()).update(self.apart.pop(rb))
        return None

    def cluster_id(self, unit: str) -> str:
        root = self.find(unit)
        number = self.number[root]
        return number if number is not None else f"R:{self.min_key[root]}"


_NO_PAIRS: Final = pl.DataFrame(schema={"record_key_l": pl.Int64, "record_key_r": pl.Int64})


def _with_units(pairs: pl.DataFrame, units: pl.DataFrame) -> pl.DataFrame:
    return pairs.join(
        units.rename({"record_key": "record_key_l", "unit": "unit_l"}), on="record_key_l"
    ).join(units.rename({"record_key": "record_key_r", "unit": "unit_r"}), on="record_key_r")


def _cluster(
    frame: pl.DataFrame,
    edges: pl.DataFrame,
    threshold: float,
    same: pl.DataFrame = _NO_PAIRS,
    different: pl.DataFrame = _NO_PAIRS,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Clusters, accepted edges and refused edges (two valid numbers) from scored pairs.

    Clerks' decisions come first: ``different`` pairs are kept apart (their units
    may never end in one cluster, by whatever path), then ``same`` pairs are joined
    (``clerical`` edges, before any scored one). Scored edges are then taken
    strongest first (ties by record keys), so when a record needing a link scores
    above the threshold with two people, it joins the likelier and the other pair
    is refused and flagged. A clerk's "same" does not join two valid numbers either:
    that pair is refused and flagged like any other.
    """
    units = frame.select("record_key", "unit")
    uf = _UnionFind()
    for key_l, key_r, unit_l, unit_r in (
        _with_units(different, units).select("record_key_l", "record_key_r", "unit_l", "unit_r")
    ).iter_rows():
        uf.add(unit_l, key_l)
        uf.add(unit_r, key_r)
        uf.keep_apart(unit_l, unit_r)
    clerical = _with_units(same, units).select(
        "record_key_l",
        "record_key_r",
        pl.lit(1.0).alias("probability"),
        pl.lit(None, dtype=pl.Float64).alias("match_weight"),
        "unit_l",
        "unit_r",
        pl.lit(value=True).alias("clerical"),
    )
    scored = _with_units(edges.filter(pl.col("probability") >= threshold), units).with_columns(
        pl.lit(value=False).alias("clerical")
    )
    strong = pl.concat(
        [
            clerical.sort(["record_key_l", "record_key_r"]),
            scored.sort(
                ["probability", "record_key_l", "record_key_r"], descending=[True, False, False]
            ),
        ],
        how="diagonal_relaxed",
    )
    accepted: list[bool] = []
    two_numbers: list[bool] = []
    for key_l, key_r, unit_l, unit_r in strong.select(
        "record_key_l", "record_key_r", "unit_l", "unit_r"
    ).iter_rows():
        uf.add(unit_l, key_l)
        uf.add(unit_r, key_r)
        refusal = uf.union(unit_l, unit_r)
        accepted.append(refusal is None)
        two_numbers.append(refusal == TWO_VALID_NUMBERS)
    strong = strong.with_columns(
        pl.Series("accepted", accepted, dtype=pl.Boolean),
        pl.Series("two_numbers", two_numbers, dtype=pl.Boolean),
    )
    touched = sorted(uf.parent)
    mapping = pl.DataFrame(
        {"unit": touched, "cluster_id": [uf.cluster_id(u) for u in touched]},
        schema={"unit": pl.String, "cluster_id": pl.String},
    )
    good = strong.filter("accepted")
    best = (
        pl.concat(
            [
                good.select(pl.col("record_key_l").alias("record_key"), "probability", "clerical"),
                good.select(pl.col("record_key_r").alias("record_key"), "probability", "clerical"),
            ]
        )
        .group_by("record_key")
        .agg(pl.col("probability").filter(~pl.col("clerical")).max(), pl.col("clerical").any())
    )
    clusters = (
        frame.select("record_key", "unit", "identity_valid")
        .join(mapping, on="unit", how="left")
        .join(best, on="record_key", how="left")
        .with_columns(pl.coalesce("cluster_id", "unit").alias("cluster_id"))
        .with_columns(
            pl.when("identity_valid")
            .then(pl.lit("exact"))
            .when(pl.col("clerical").fill_null(value=False))
            .then(pl.lit(CLERICAL))
            .when(pl.col("probability").is_not_null())
            .then(pl.lit("probabilistic"))
            .otherwise(pl.lit("singleton"))
            .alias("method"),
        )
        .with_columns(
            pl.when(pl.col("method") == "probabilistic")
            .then("probability")
            .otherwise(None)
            .alias("probability")
        )
        .select(list(_CLUSTER_SCHEMA))
        .cast(_CLUSTER_SCHEMA)
        .sort("record_key")
    )
    refused = strong.filter("two_numbers").select(list(_EDGE_SCHEMA))
    return clusters, good.select(list(_EDGE_SCHEMA)), refused


def _flags(frame: pl.DataFrame, clusters: pl.DataFrame, refused: pl.DataFrame) -> pl.DataFrame:
    """Refused joins (both clusters flagged) and exact clusters that disagree inside."""
    cluster_of = clusters.select("record_key", "cluster_id")
    pairs = refused.join(
        cluster_of.rename({"record_key": "record_key_l", "cluster_id": "cluster_l"}),
        on="record_key_l",
    ).join(
        cluster_of.rename({"record_key": "record_key_r", "cluster_id": "cluster_r"}),
        on="record_key_r",
    )
    both_ways = pl.concat(
        [
            pairs.select(
                pl.col("cluster_l").alias("cluster_id"),
                pl.col("cluster_r").alias("other_cluster_id"),
                "record_key_l",
                "record_key_r",
                "probability",
            ),
            pairs.select(
                pl.col("cluster_r").alias("cluster_id"),
                pl.col("cluster_l").alias("other_cluster_id"),
                "record_key_l",
                "record_key_r",
                "probability",
            ),
        ]
    )
    conflicts = (
        both_ways.sort(["probability", "record_key_l"], descending=[True, False])
        .unique(["cluster_id", "other_cluster_id"], keep="first", maintain_order=True)
        .with_columns(pl.lit(TWO_VALID_NUMBERS).alias("reason"))
    )
    # A record whose stated birth date or sex contradicts the valid number it carries
    # may be someone else's record with this number typed on it (a guardian's, a
    # spouse's): linked by the number, but a person should look.
    number = pl.col("identity_number")
    inside = (
        frame.filter("identity_valid")
        .group_by(pl.col("unit").alias("cluster_id"))
        .agg(
            (pl.col("stated_birth_date") != _birth_date_in(number))
            .fill_null(value=False)
            .any()
            .alias(BIRTH_DATE_DISAGREES),
            (pl.col("stated_sex") != _sex_in(number))
            .fill_null(value=False)
            .any()
            .alias(SEX_DISAGREES),
        )
    )
    disagreements = (
        inside.unpivot(index="cluster_id", variable_name="reason", value_name="flagged")
        .filter("flagged")
        .select("cluster_id", "reason")
    )
    return (
        pl.concat([conflicts, disagreements], how="diagonal_relaxed")
        .select(list(_FLAG_SCHEMA))
        .cast(_FLAG_SCHEMA)
        .sort(["cluster_id", "reason", "other_cluster_id"], nulls_last=True)
    )


def _review_pairs(
    frame: pl.DataFrame,
    clusters: pl.DataFrame,
    edges: pl.DataFrame,
    refused: pl.DataFrame,
    band: tuple[float, float],
) -> pl.DataFrame:
    """Band pairs whose records did not end up together anyway, and refused pairs."""
    lower, upper = band
    in_band = edges.filter(
        (pl.col("probability") >= lower) & (pl.col("probability") < upper)
    ).with_columns(pl.lit(REVIEW_BAND).alias("reason"))
    pairs = pl.concat(
        [in_band, refused.with_columns(pl.lit(TWO_VALID_NUMBERS).alias("reason"))]
    ).unique(["record_key_l", "record_key_r"], keep="first", maintain_order=True)
    values = frame.select("record_key", *_REVIEW_VALUES).join(
        clusters.select("record_key", "cluster_id"), on="record_key"
    )
    for side in ("l", "r"):
        pairs = pairs.join(
            values.rename({c: f"{c}_{side}" for c in values.columns}),
            on=f"record_key_{side}",
            how="left",
        )
    return (
        pairs.filter(
            (pl.col("cluster_id_l") != pl.col("cluster_id_r")) | (pl.col("reason") != REVIEW_BAND)
        )
        .sort(["probability", "record_key_l", "record_key_r"], descending=[True, False, False])
        .select(
            "record_key_l",
            "record_key_r",
            "probability",
            "match_weight",
            "reason",
            *(f"{c}_{side}" for c in ("cluster_id", *_REVIEW_VALUES) for side in ("l", "r")),
        )
    )


def _pairs_in(pairs: pl.DataFrame | None, frame: pl.DataFrame) -> pl.DataFrame:
    """Decided pairs whose two records are both in the frame, smaller key on the left."""
    if pairs is None or pairs.is_empty():
        return _NO_PAIRS
    keys = frame.select("record_key")
    ordered = pairs.select(
        pl.min_horizontal("record_key_l", "record_key_r").cast(pl.Int64).alias("record_key_l"),
        pl.max_horizontal("record_key_l", "record_key_r").cast(pl.Int64).alias("record_key_r"),
    )
    return (
        ordered.join(keys, left_on="record_key_l", right_on="record_key", how="semi")
        .join(keys, left_on="record_key_r", right_on="record_key", how="semi")
        .unique()
        .sort(["record_key_l", "record_key_r"])
    )


def _blocking_key_frame(frame: pl.DataFrame, secret: str) -> pl.DataFrame:
    """Keyed digests of what each blocking rule joins on, one row per record.

    Each column of :data:`BLOCKING_KEY_COLUMNS` is the joined value of one rule of
    :data:`_BLOCKING_KEYS` (same order), hashed with SHA-256 under ``secret`` and
    cut to 16 hex characters: two records blocked together by a rule have the same
    digest (a collision only adds a candidate), and the digests reveal nothing
    without the secret. DuckDB hashes the column in C: ~3M records x 7 keys in
    seconds, not a Python loop.
    """
    number = pl.col("identity_number")
    raw = frame.select(
        "record_key",
        "needs_link",
        pl.col("birth_date").cast(pl.String).alias("k_birth"),
        (pl.col("name_hanzi") + "|" + pl.col("birth_date").dt.year().cast(pl.String)).alias(
            "k_hanzi_year"
        ),
        number.str.slice(0, 14).alias("k_n14"),
        number.str.slice(6, 12).alias("k_n7_18"),
        (number.str.slice(0, 6) + "|" + number.str.slice(14, 4)).alias("k_n6_15"),
        (pl.col("name_pinyin") + "|" + number.str.slice(0, 6)).alias("k_py6"),
        (pl.col("name_pinyin") + "|" + number.str.slice(14, 4)).alias("k_py15"),
    )
    con = duckdb.connect(":memory:")
    try:
        con.register("hukou_keys", raw)
        digests = ", ".join(
            f"left(sha256($secret || '|{c}|' || {c}), 16) AS {c}" for c in BLOCKING_KEY_COLUMNS
        )
        keyed: pl.DataFrame = con.sql(
            f"SELECT record_key, needs_link, {digests} FROM hukou_keys ORDER BY record_key",  # noqa: S608
            params={"secret": secret},
        ).pl()
    finally:
        con.close()
    return keyed.cast({"record_key": pl.Int64, "needs_link": pl.Boolean})


def blocking_keys(records: pl.DataFrame, secret: str) -> pl.DataFrame:
    """The keyed blocking-key digests of ``records`` (columns of :func:`link_records`).

    An incremental run computes them for its pending records and looks for the
    stored digests of earlier records that equal them: those are exactly the
    records the blocking rules would pair them with in a full run.
    """
    _check_input(records)
    return _blocking_key_frame(_prepare(records), secret)


def link_records(
    records: pl.DataFrame,
    *,
    threshold: float = 0.95,
    review_band: tuple[float, float] = (0.5, 0.95),
    seed: int = _DEFAULT_SEED,
    model: dict[str, Any] | None = None,
    term_frequencies: pl.DataFrame | None = None,
    same: pl.DataFrame | None = None,
    different: pl.DataFrame | None = None,
    key_secret: str | None = None,
) -> LinkageResult:
    """Link ``records`` into people (see the module docstring for the method).

    ``records`` has the columns of :data:`REQUIRED_COLUMNS` (``identity_number``
    normalised, ``identity_valid`` as ingest decided it), optionally ``address``,
    ``registered_division`` and ``identity_index``. Pairs scored at or above
    ``threshold`` are joined; pairs in ``[review_band[0], review_band[1])`` that end
    up in different clusters are returned for review. ``seed`` fixes Splink's
    sampling: the same records and seed give the same clusters.

    ``model`` and ``term_frequencies`` (from an earlier run's ``stats``) skip
    training: the pairs are scored with that model, as an incremental run must.
    ``same`` and ``different`` (``record_key_l``, ``record_key_r``) are clerks'
    decisions: joined whatever the score (method ``clerical``), kept apart whatever
    the score. ``key_secret`` asks for the blocking-key digests in ``result.keys``.
    """
    lower, upper = review_band
    if not 0.0 <= lower <= upper <= 1.0 or not 0.0 < threshold <= 1.0:
        raise ValueError("need 0 <= review_band[0] <= review_band[1] <= 1 and 0 < threshold <= 1")
    _check_input(records)
    started = time.perf_counter()
    stats: dict[str, Any] = {"records": records.height}
    frame = _prepare(records)
    stats["seconds_prepare"] = time.perf_counter() - started
    exact_records = int(frame["identity_valid"].sum())
    to_link = frame.height - exact_records
    stats.update(
        exact_records=exact_records,
        exact_clusters=frame.filter("identity_valid")["unit"].n_unique(),
        records_needing_link=to_link,
    )
    same_pairs, different_pairs = _pairs_in(same, frame), _pairs_in(different, frame)
    edges = pl.DataFrame(schema=_EDGE_SCHEMA)
    if to_link and frame.height > 1:
        with _captured_splink_log() as log:
            if model is None:
                edges = _score(frame, lower=min(lower, threshold), seed=seed, stats=stats)
            else:
                edges = _score_with_model(
                    frame,
                    model=model,
                    term_frequencies=pl.DataFrame(schema=_TF_SCHEMA)
                    if term_frequencies is None
                    else term_frequencies,
                    lower=min(lower, threshold),
                    stats=stats,
                )
        stats["splink_warnings"] = log.messages
    # A clerk's decision replaces the score: neither side of it goes to review again.
    edges = edges.join(
        pl.concat([same_pairs, different_pairs]), on=["record_key_l", "record_key_r"], how="anti"
    )
    stats["pairs_scored_at_or_above_review_floor"] = edges.height
    started = time.perf_counter()
    clusters, accepted, refused = _cluster(frame, edges, threshold, same_pairs, different_pairs)
    flags = _flags(frame, clusters, refused)
    review = _review_pairs(frame, clusters, edges, refused, (lower, min(upper, threshold)))
    stats["seconds_cluster"] = time.perf_counter() - started
    methods = clusters["method"].value_counts().sort("method")
    stats.update(
        links_accepted=accepted.height,
        links_refused_two_valid_numbers=refused.height,
        clerical_same=same_pairs.height,
        clerical_different=different_pairs.height,
        review_pairs=review.height,
        flags=flags.height,
        clusters=clusters["cluster_id"].n_unique(),
        by_method=dict(zip(methods["method"].to_list(), methods["count"].to_list(), strict=True)),
    )
    keys = None if key_secret is None else _blocking_key_frame(frame, key_secret)
    return LinkageResult(
        clusters=clusters, review_pairs=review, flags=flags, stats=stats, keys=keys
    )


# --------------------------------------------------------------------------- evaluation


def _pairs(sizes: pl.Expr) -> pl.Expr:
    return (sizes * (sizes - 1) // 2).sum()


def pairwise_scores(clusters: pl.DataFrame, truth: pl.DataFrame) -> dict[str, float]:
    """Pairwise precision, recall and F1 of ``clusters`` against ``truth``, in O(n).

    ``clusters`` has ``record_key`` and ``cluster_id``; ``truth`` has ``record_key``
    and ``person_id``. A pair of records is predicted if they share a cluster and
    true if they share a person; pairs are counted by group sizes (n·(n-1)/2 per
    group) and the true positives from the cluster × person cross-tab, never by
    listing pairs. With no predicted pairs precision is 1 (nothing wrong was
    claimed); with no true pairs recall is 1.

    >>> c = pl.DataFrame({"record_key": [1, 2, 3, 4], "cluster_id": ["a", "a", "a", "b"]})
    >>> t = pl.DataFrame({"record_key": [1, 2, 3, 4], "person_id": ["p", "p", "q", "q"]})
    >>> s = pairwise_scores(c, t)
    >>> s["true_positive_pairs"], s["predicted_pairs"], s["true_pairs"], round(s["f1"], 3)
    (1, 3, 2, 0.4)
    """
    joined = clusters.select("record_key", "cluster_id").join(
        truth.select("record_key", "person_id"), on="record_key", how="inner"
    )
    if joined.height != clusters.height or joined.height != truth.height:
        raise ValueError("clusters and truth must cover the same record keys")
    predicted = int(joined.group_by("cluster_id").len().select(_pairs(pl.col("len"))).item())
    true = int(joined.group_by("person_id").len().select(_pairs(pl.col("len"))).item())
    hits = int(
        joined.group_by("cluster_id", "person_id").len().select(_pairs(pl.col("len"))).item()
    )
    precision = hits / predicted if predicted else 1.0
    recall = hits / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_positive_pairs": hits,
        "predicted_pairs": predicted,
        "true_pairs": true,
        "false_positive_pairs": predicted - hits,
        "false_negative_pairs": true - hits,
    }


# --------------------------------------------------------------------------- baseline


def splink_baseline(
    records: pl.DataFrame, *, threshold: float = 0.95, seed: int = _DEFAULT_SEED
) -> pl.DataFrame:
    """Splink alone, the way its documentation sets up a deduplication.

    Out-of-the-box comparisons on the columns as they are (name, birth date, sex,
    identity number as a string), blocking rules on single columns, prior from a
    deterministic rule, ``u`` by random sampling, ``m`` by EM on two blocking rules,
    ``predict`` and connected components at ``threshold`` — no exact stage, no name
    keys, no constraint on valid numbers. Returns ``record_key`` and ``cluster_id``
    per record, to be scored like :func:`link_records`' clusters.
    """
    _check_input(records)
    data = records.select(
        pl.col("record_key").cast(pl.Int64),
        pl.col("name").cast(pl.String),
        pl.col("birth_date").cast(pl.Date),
        pl.col("sex").cast(pl.String),
        pl.col("identity_number").cast(pl.String),
    )
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_key",
        comparisons=[
            cl.NameComparison("name").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("birth_date", input_is_string=False),
            cl.ExactMatch("sex"),
            cl.LevenshteinAtThresholds("identity_number", [1, 2]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("identity_number"),
            block_on("name"),
            block_on("birth_date"),
        ],
    )
    con = duckdb.connect(":memory:")
    try:
        with _captured_splink_log():
            con.register(_INPUT_TABLE, data)
            db_api = DuckDBAPI(connection=con)
            linker = Linker(db_api.register(_INPUT_TABLE), settings, log_level=None)
            linker.training.estimate_probability_two_random_records_match(
                [block_on("identity_number")], recall=0.9
            )
            linker.training.estimate_u_using_random_sampling(
                max_pairs=min(_U_MAX_PAIRS, data.height * (data.height - 1) / 2), seed=seed
            )
            for rule in (block_on("name"), block_on("birth_date")):
                linker.training.estimate_parameters_using_expectation_maximisation(rule)
            predictions = linker.inference.predict(
                threshold_match_probability=threshold, warning_mode="never"
            )
            clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
                predictions, threshold_match_probability=threshold
            )
            out = _to_polars(clustered)
    finally:
        con.close()
    return out.select(
        pl.col("record_key").cast(pl.Int64), pl.col("cluster_id").cast(pl.String)
    ).sort("record_key")
