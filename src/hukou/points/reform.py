"""Reform simulation: change a parameter (or the quota) from a date and see who changes status.

``reformed(policy, {"education.master": "28"}, starting=2026-01-01)`` adds to the indicator a
version from that date, copied from the one in force then with the change; the old version
stays for applications before it. ``compare`` scores the same applicants under both, as
applications on the reform's first day, and reports the cutoffs, who is newly admitted or
no longer admitted, the admitted's average points by category, and the score distribution.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl

from hukou.points.engine import Ranking, indicator_column, rank, score_frame
from hukou.points.policy import UNITS_PER_POINT, Policy, Version

__all__ = ["ReformError", "ReformReport", "compare", "reformed"]

_MAPS = ("table", "items", "tiers")


class ReformError(ValueError):
    """A change that names no parameter of the policy, or a value that is not a number."""


def _number(text: str, where: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ReformError(f"{where}: {text!r} is not a number") from None


def reformed(policy: Policy, changes: Mapping[str, str], *, starting: datetime.date) -> Policy:
    """``policy`` with each ``indicator.parameter`` (or ``indicator.table_key``) set from
    ``starting``; validated like a policy file."""
    document: dict[str, Any] = policy.model_dump(by_alias=True)
    for target, text in changes.items():
        name, _, key = target.partition(".")
        if name not in policy.indicators or not key:
            raise ReformError(f"{target}: write INDICATOR.PARAMETER, e.g. education.master")
        versions = document["indicators"][name]["versions"]
        # The version in force on the first day, as the changes before this one left it.
        in_force = [v for v in versions if v["from"] <= starting] or versions[:1]
        version = copy.deepcopy(in_force[-1])
        version["from"] = starting
        value = _number(text, target)
        head, _, rest = key.partition(".")
        if rest:
            table = (version.get("tables") or {}).get(head)
            if table is None:
                raise ReformError(f"{target}: {name} has no table {head!r}")
            table[rest] = value
        elif head in Version.model_fields and head not in (*_MAPS, "tables", "from_"):
            version[head] = value
        else:
            found = [version[m] for m in _MAPS if isinstance(version.get(m), dict)]
            mapping = next((m for m in found if head in m), None)
            if mapping is None:
                raise ReformError(f"{target}: {name} has no parameter {key!r}")
            mapping[head] = value
        kept = [v for v in versions if v["from"] < starting]
        document["indicators"][name]["versions"] = [*kept, version]
    return Policy.model_validate(document)


@dataclass(frozen=True, slots=True)
class ReformReport:
    before: Ranking
    after: Ranking
    newly_admitted: int
    no_longer_admitted: int
    categories: Mapping[str, tuple[float, float]]
    """Category → average points of the admitted, before and after."""
    distribution: list[tuple[int, int, int]]
    """(lower bound of a 5-point band, applicants before, after) among the qualified."""

    def as_json(self) -> dict[str, object]:
        def outcome(ranking: Ranking) -> dict[str, object]:
            return {
                "cutoff": None if ranking.cutoff is None else ranking.cutoff / 100,
                "admitted": ranking.admitted,
                "tied_at_cutoff": ranking.tied_at_cutoff,
                "qualified": ranking.qualified,
            }

        return {
            "before": outcome(self.before),
            "after": outcome(self.after),
            "newly_admitted": self.newly_admitted,
            "no_longer_admitted": self.no_longer_admitted,
            "categories": {k: {"before": b, "after": a} for k, (b, a) in self.categories.items()},
            "distribution": [
                {"from": band, "before": b, "after": a} for band, b, a in self.distribution
            ],
        }


def _admitted_ids(admitted: pl.DataFrame) -> set[object]:
    return set(admitted.get_column("applicant_id").to_list())


def _category_means(policy: Policy, admitted: pl.DataFrame) -> dict[str, float]:
    means: dict[str, float] = {}
    for category in dict.fromkeys(i.category.value for i in policy.indicators.values()):
        columns = [
            indicator_column(name)
            for name, indicator in policy.indicators.items()
            if indicator.category.value == category
        ]
        total = admitted.select(pl.sum_horizontal(columns)).to_series().sum()
        count = max(admitted.height, 1)
        means[category] = int(total) / count / UNITS_PER_POINT
    return means


def _bands(scored: pl.DataFrame) -> dict[int, int]:
    qualified = scored.filter(pl.col("qualified"))
    bands = (qualified.get_column("score") // 500 * 5).value_counts()
    return {int(band): int(count) for band, count in bands.iter_rows()}


def compare(
    before: Policy,
    after: Policy,
    applicants: pl.DataFrame,
    *,
    starting: datetime.date,
    quota: int,
    quota_after: int | None = None,
) -> ReformReport:
    """Both policies on the same applicants applying on ``starting``."""
    on_day = applicants.with_columns(pl.lit(starting).alias("application_date"))
    old, new = score_frame(before, on_day), score_frame(after, on_day)
    old_admitted, old_outcome = rank(old, quota)
    new_admitted, new_outcome = rank(new, quota if quota_after is None else quota_after)
    was, now = _admitted_ids(old_admitted), _admitted_ids(new_admitted)
    old_means, new_means = (
        _category_means(before, old_admitted),
        _category_means(after, new_admitted),
    )
    old_bands, new_bands = _bands(old), _bands(new)
    return ReformReport(
        before=old_outcome,
        after=new_outcome,
        newly_admitted=len(now - was),
        no_longer_admitted=len(was - now),
        categories={k: (old_means[k], new_means.get(k, 0.0)) for k in old_means},
        distribution=[
            (band, old_bands.get(band, 0), new_bands.get(band, 0))
            for band in sorted(set(old_bands) | set(new_bands))
        ],
    )
