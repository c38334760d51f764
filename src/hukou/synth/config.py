"""What a synthetic city is made from: size, seed, the simulated year, defect rates."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

__all__ = ["CityConfig", "DefectRates"]


@dataclass(frozen=True, slots=True)
class DefectRates:
    """Probability per feed record of each defect (the plan reports ~8 % bad records).

    Rates are per record before the department's quality factor (the household
    register 0.4, a rental register 1.3 …); with the defaults about 8 % of all feed
    records carry at least one defect, the error rate the plan reports (8.3 %).
    ``scale`` multiplies them all (0 gives clean feeds, for tests that need them).
    """

    name_homophone: float = 0.016  # a character replaced by a same-sounding one
    name_lookalike: float = 0.008  # a character replaced by a look-alike
    name_traditional: float = 0.012  # the name written in traditional characters
    id_full_width: float = 0.012  # digits typed full-width
    id_transposed: float = 0.01  # two adjacent digits swapped
    id_mistyped: float = 0.012  # one digit wrong
    id_wrong_check: float = 0.008  # the check character wrong
    id_legacy_15: float = 0.02  # the old 15-digit number (only people born before 1984)
    missing_field: float = 0.02  # a required field left empty
    duplicate_row: float = 0.012  # the same record exported twice
    date_out_of_range: float = 0.006  # an impossible or future date
    stale_address: float = 0.02  # an address from before the person moved
    malformed_line: float = 0.001  # a line the file format cannot parse
    scale: float = 1.0

    def rate(self, name: str) -> float:
        """The scaled probability of defect ``name``."""
        return float(getattr(self, name)) * self.scale


@dataclass(frozen=True, slots=True)
class CityConfig:
    """Parameters of one synthetic city. Same config, same bytes."""

    population: int = 20_000
    seed: int = 20251231
    year: int = 2025  # the simulated year: events, applications, feeds' extraction
    defects: DefectRates = field(default_factory=DefectRates)
    chunk_rows: int = 200_000  # rows per write: feeds are streamed, never held whole as text

    @property
    def snapshot_date(self) -> datetime.date:
        """The day the departments exported their feeds: the end of the simulated year."""
        return datetime.date(self.year, 12, 31)

    @property
    def period_start(self) -> datetime.date:
        """First day of the simulated year."""
        return datetime.date(self.year, 1, 1)
