"""Households from golden records: current members only, the head's registration, a
household without a head kept and said so, and stored rows replaced household by household."""

from __future__ import annotations

import polars as pl
import pytest
from sqlalchemy import Engine, select

from hukou.db import session_scope
from hukou.registry.households import (
    Household,
    HouseholdMember,
    households_frame,
    store_households,
)


def _persons(rows: list[tuple[str, str | None, str | None, str | None, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema=[
            "person_id",
            "household_number",
            "relationship",
            "person_status",
            "registered_division",
            "registered_address",
        ],
        orient="row",
    )


FAMILY = _persons(
    [
        ("P3", "H1", "20", "alive", "320506", "old street 1"),  # a son, listed first
        ("P1", "H1", "02", "alive", "320505", "main street 9"),  # the head
        ("P2", "H1", "10", None, "320506", "old street 1"),  # status unknown: current
        ("P4", "H1", "30", "deceased", "320505", "main street 9"),  # left the household
        ("P5", "H2", "99", "alive", "320583", "dormitory 3"),  # collective: no head
        ("P6", "H2", "99", "alive", "320583", "dormitory 3"),
        ("P7", "H2", "99", "alive", "320505", "dormitory 3"),
        ("P8", None, None, "alive", "320505", "x"),  # no household number: none
        ("P9", "H3", "02", "moved_out", "320505", "y"),  # everyone left: no household
    ]
)


def test_a_household_is_its_current_members_under_its_head() -> None:
    households, members = households_frame(FAMILY)
    assert households.rows(named=True) == [
        {
            "household_number": "H1",
            "head_person_id": "P1",
            "has_head": True,
            "members": 3,
            "registered_division": "320505",  # the head's, not the members' majority
            "registered_address": "main street 9",
        },
        {
            "household_number": "H2",
            "head_person_id": None,
            "has_head": False,
            "members": 3,
            "registered_division": "320583",  # no head: the most common
            "registered_address": "dormitory 3",
        },
    ]
    assert members.rows() == [
        ("H1", "P1", "02", True),
        ("H1", "P2", "10", False),
        ("H1", "P3", "20", False),
        ("H2", "P5", "99", False),
        ("H2", "P6", "99", False),
        ("H2", "P7", "99", False),
    ]


def test_no_persons_no_households() -> None:
    households, members = households_frame(FAMILY.clear())
    assert households.height == 0
    assert members.height == 0


def _stored(engine: Engine) -> tuple[list[tuple[str, int]], list[tuple[str, str]]]:
    with session_scope(engine) as session:
        households = [
            (h.household_number, h.members)
            for h in session.scalars(select(Household).order_by(Household.household_number))
        ]
        members = [
            (m.household_number, m.person_id)
            for m in session.scalars(
                select(HouseholdMember).order_by(
                    HouseholdMember.household_number, HouseholdMember.person_id
                )
            )
        ]
    return households, members


@pytest.mark.storage
def test_stored_and_replaced_household_by_household(engine: Engine) -> None:
    with session_scope(engine) as session:
        store_households(session, *households_frame(FAMILY))
    assert _stored(engine)[0] == [("H1", 3), ("H2", 3)]
    # P3 moves from H1 to a new household H4: only H1 and H4 are rewritten.
    moved = FAMILY.with_columns(
        pl.when(pl.col("person_id") == "P3")
        .then(pl.lit("H4"))
        .otherwise(pl.col("household_number"))
        .alias("household_number")
    )
    households, members = households_frame(moved)
    touched = {"H1", "H4"}
    with session_scope(engine) as session:
        store_households(
            session,
            households.filter(pl.col("household_number").is_in(touched)),
            members.filter(pl.col("household_number").is_in(touched)),
            replace=touched,
        )
    stored_households, stored_members = _stored(engine)
    assert stored_households == [("H1", 2), ("H2", 3), ("H4", 1)]
    assert ("H4", "P3") in stored_members
    assert ("H1", "P3") not in stored_members
