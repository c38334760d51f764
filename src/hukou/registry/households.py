"""Households (户) and their members, from the persons' golden records.

The household register (公安户籍) numbers each 户 and records every member's
relationship to its head (GB/T 4761: ``02`` is 户主). Once records are linked to
persons, a household is the set of *current* persons whose golden household number
is the same: a member whose registration was cancelled (died, moved out) has left
it. A household without a head is kept and said so (``has_head``): a collective
household (集体户) has none, and neither has a family whose head has died and not
yet been replaced — both are facts the window clerk should see.

:func:`households_frame` is pure (Polars in, Polars out) so that a million persons
cost one pass; :func:`store_households` replaces the rows of the households given, in the caller's
transaction (the registry's link writes persons and households together).
"""

from __future__ import annotations

import datetime
from collections.abc import Collection

import polars as pl
from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from hukou.db import Base
from hukou.db.bulk import insert_frame

__all__ = [
    "HEAD",
    "Household",
    "HouseholdMember",
    "household_of",
    "households_frame",
    "store_households",
]

HEAD = "02"  # GB/T 4761 户主
_CURRENT = ("alive",)  # person_status values that keep a person in the household
_CHUNK = 5000


class Household(Base):
    """One registered household: where it is registered, its head, how many members."""

    __tablename__ = "registry_household"

    household_number: Mapped[str] = mapped_column(String(40), primary_key=True)
    registered_division: Mapped[str | None] = mapped_column(String(6))
    registered_address: Mapped[str | None] = mapped_column(Text)
    head_person_id: Mapped[str | None] = mapped_column(String(24))
    has_head: Mapped[bool] = mapped_column(Boolean)
    members: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))


class HouseholdMember(Base):
    """A current person of a household and their relationship to its head."""

    __tablename__ = "registry_household_member"
    __table_args__ = (Index("ix_registry_household_member_person_id", "person_id"),)

    household_number: Mapped[str] = mapped_column(String(40), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    relationship: Mapped[str | None] = mapped_column(String(2))
    is_head: Mapped[bool] = mapped_column(Boolean)


_PERSONS_SCHEMA = {
    "person_id": pl.String,
    "household_number": pl.String,
    "relationship": pl.String,
    "person_status": pl.String,
    "registered_division": pl.String,
    "registered_address": pl.String,
}


def households_frame(persons: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(households, members) from one row per person with their golden household fields.

    ``persons`` has the columns of ``_PERSONS_SCHEMA``; a missing ``person_status``
    counts as current (not every department says). The household's registered
    division and address are its head's, else the most common among its members.

    >>> persons = pl.DataFrame({
    ...     "person_id": ["A", "B", "C", "D"], "household_number": ["H1", "H1", "H1", "H2"],
    ...     "relationship": ["02", "10", "20", "99"],
    ...     "person_status": ["alive", "alive", "deceased", None],
    ...     "registered_division": ["320505"] * 4, "registered_address": ["x", "x", "x", "y"]})
    >>> households, members = households_frame(persons)
    >>> households.select("household_number", "head_person_id", "has_head", "members").rows()
    [('H1', 'A', True, 2), ('H2', None, False, 1)]
    """
    current = persons.select(
        [pl.col(name).cast(dtype) for name, dtype in _PERSONS_SCHEMA.items()]
    ).filter(
        pl.col("household_number").is_not_null()
        & (pl.col("person_status").is_null() | pl.col("person_status").is_in(_CURRENT))
    )
    members = current.select(
        "household_number",
        "person_id",
        "relationship",
        (pl.col("relationship") == HEAD).fill_null(value=False).alias("is_head"),
    ).sort("household_number", "person_id")
    # The head first, then the most common values: the household's own registration.
    ordered = current.with_columns(
        (pl.col("relationship") == HEAD).fill_null(value=False).alias("is_head")
    ).sort("household_number", "is_head", "person_id", descending=[False, True, False])
    households = (
        ordered.group_by("household_number", maintain_order=True)
        .agg(
            pl.when(pl.col("is_head").first())
            .then(pl.col("person_id").first())
            .alias("head_person_id"),
            pl.col("is_head").any().alias("has_head"),
            pl.len().cast(pl.Int32).alias("members"),
            pl.when(pl.col("is_head").first())
            .then(pl.col("registered_division").first())
            .otherwise(pl.col("registered_division").drop_nulls().mode().sort().first())
            .alias("registered_division"),
            pl.when(pl.col("is_head").first())
            .then(pl.col("registered_address").first())
            .otherwise(pl.col("registered_address").drop_nulls().mode().sort().first())
            .alias("registered_address"),
        )
        .sort("household_number")
    )
    return households, members


def store_households(
    session: Session,
    households: pl.DataFrame,
    members: pl.DataFrame,
    *,
    replace: Collection[str] | None = None,
) -> None:
    """Write households and members in ``session``; ``replace``: the numbers to rewrite
    (``None``: all). ``households`` and ``members`` hold the rows of those numbers.

    An incremental link passes the household numbers its touched persons had before
    and have now, so a person who moved out leaves the old household in the same
    transaction as joining the new one.
    """
    now = datetime.datetime.now(datetime.UTC)
    if replace is None:
        session.execute(delete(HouseholdMember))
        session.execute(delete(Household))
    else:
        numbers = sorted(set(replace))
        for start in range(0, len(numbers), _CHUNK):
            chunk = numbers[start : start + _CHUNK]
            session.execute(
                delete(HouseholdMember).where(HouseholdMember.household_number.in_(chunk))
            )
            session.execute(delete(Household).where(Household.household_number.in_(chunk)))
    insert_frame(session, Household, households.with_columns(pl.lit(now).alias("updated_at")))
    insert_frame(session, HouseholdMember, members)


def household_of(db: Session, person_id: str) -> list[HouseholdMember]:
    """The current members of the household ``person_id`` belongs to, head first (none
    if the person is in no household). Ids and relationships only: whoever shows more of a
    member reads that member through ``exchange``."""
    number = db.scalar(
        select(HouseholdMember.household_number).where(HouseholdMember.person_id == person_id)
    )
    if number is None:
        return []
    return list(
        db.scalars(
            select(HouseholdMember)
            .where(HouseholdMember.household_number == number)
            .order_by(
                HouseholdMember.is_head.desc(),
                HouseholdMember.relationship,
                HouseholdMember.person_id,
            )
        )
    )
