"""A late batch of hand-typed lease registrations: what fills the demo's clerical-review queue.

The synthetic city's defects are single slips (a homophone, a transposed digit) that the
linkage model resolves with confidence, so a fresh demo would show an empty review queue.
Real queues fill from another habit: an agent registers the same tenant at several flats,
typing the identity number differently each time (month and day swapped, a wrong check
character, the century dropped), so the numbers link to no one, the name agrees and the
addresses do not. One person renting several flats, or several people? The model cannot
say for every pair; a data officer can.

The file is written in the housing feed's own format (``zlba_*.csv``) under
``<data>/late/housing`` — not inside the synthetic city — and ingested and linked like any
department file. Which residents it names comes from the city's seed, so a demo is the
same every time.
"""

from __future__ import annotations

import csv
import datetime
from pathlib import Path
from typing import Final

import polars as pl

from hukou.registry.spec import find_spec
from hukou.standards import divisions

__all__ = ["TENANTS", "write_late_leases"]

TENANTS: Final = 6
"""Tenants registered four times each (the model is sure of some pairs, unsure of others)."""
_DISTRICT: Final = "姑苏区"
_STREETS: Final = tuple(f"江苏省苏州市姑苏区{s}" for s in ("人民路", "干将路", "凤凰街"))


def _copies(number: str) -> tuple[str, ...]:
    """The number as the agent typed it on each registration: birth month and day swapped
    (twice), the check character wrong, the century dropped."""
    swapped = number[:10] + number[12:14] + number[10:12] + number[14:]
    check = number[:17] + ("0" if number[17] != "0" else "1")
    return swapped, swapped, check, number[:6] + number[8:]


def _tenants(city: Path, seed: int) -> list[dict[str, object]]:
    persons = pl.read_parquet(city / "truth" / "persons.parquet")
    adults = persons.filter(
        pl.col("alive")
        & pl.col("identity_number").is_not_null()
        & pl.col("address").is_not_null()
        & (pl.col("birth_date") < pl.date(2000, 1, 1))
        & (pl.col("birth_date").dt.day() != pl.col("birth_date").dt.month())
    )
    return adults.sample(min(TENANTS, adults.height), seed=seed).to_dicts()


def write_late_leases(city: Path, folder: Path, *, seed: int, day: datetime.date) -> Path:
    """Write the late batch for ``city`` into ``folder/housing``; its path.

    Four registrations per tenant, all with the tenant's name: the first at the tenant's
    real address, the others at flats in 姑苏区, each number mistyped (:func:`_copies`).
    """
    rows = []
    for index, person in enumerate(_tenants(city, seed)):
        home = divisions.get(str(person["actual_division"]))
        flats = [(str(person["address"]), "" if home is None else home.name)]
        flats += [(f"{street}{100 + index}号", _DISTRICT) for street in _STREETS]
        for copy, (number, (address, district)) in enumerate(
            zip(_copies(str(person["identity_number"])), flats, strict=True)
        ):
            rows.append(
                {
                    "contract_no": f"ZL-320508-{day.year}-{9_000_000 + index * 10 + copy:07d}",
                    "lessee_name": person["name"],
                    "lessee_id_type": "身份证",
                    "lessee_id_no": number,
                    "lessee_phone": f"139{seed % 10_000:04d}{index * 10 + copy:04d}",
                    "house_address": address,
                    "district": district,
                    "lease_start": day.isoformat(),
                    "lease_end": day.replace(year=day.year + 1).isoformat(),
                    "registered_at": f"{day.isoformat()} 10:00:00",
                    "rent_yuan_month": "3000",
                }
            )
    target = folder / "housing" / f"zlba_{day:%Y%m%d}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as out:
        header = [column.source for column in find_spec("housing").files[0].columns]
        writer = csv.DictWriter(out, fieldnames=header)  # the housing feed's own columns
        writer.writeheader()
        writer.writerows(rows)
    return target
