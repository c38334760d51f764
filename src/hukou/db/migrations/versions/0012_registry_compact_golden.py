"""registry: golden records store each source once (compact provenance)

Before, every field of ``registry_person.golden`` carried its whole provenance::

    {"<field>": {"as_of", "batch_id", "department", "file", "position", "rank", "value"}}

Now each record a value comes from is listed once and fields name it by index
(``hukou.registry.golden`` documents the form)::

    {"fields": {"<field>": [<source>, <rank>, <value>]}, "sources": [{"as_of", "batch_id",
     "department", "file", "position"}]}

Values (tokens included) move unchanged, so nothing is decrypted. Sources are in
``hukou.registry.golden.source_order``, which is what linking writes, so a person the
next link leaves alone compares equal. Self-contained on purpose: a migration must
not change meaning when the package's code moves on.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 10:00:00.000000
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_BATCH = 2_000
_SOURCE = ("as_of", "batch_id", "department", "file", "position")
_person = sa.table("registry_person", sa.column("id", sa.String), sa.column("golden", sa.Text))


def _dumps(document: object) -> str:
    return json.dumps(document, ensure_ascii=False, sort_keys=True)


def _order(source: tuple[Any, ...]) -> tuple[Any, ...]:
    as_of, batch_id, department, file, position = source  # _SOURCE's order
    return (as_of, department, file, position, batch_id)


def _compact(text: str) -> str:
    old: dict[str, dict[str, Any]] = json.loads(text)
    if set(old) == {"fields", "sources"}:  # already compact (a re-run)
        return text
    sources = sorted({tuple(entry[key] for key in _SOURCE) for entry in old.values()}, key=_order)
    index = {source: number for number, source in enumerate(sources)}
    return _dumps(
        {
            "fields": {
                name: [index[tuple(entry[key] for key in _SOURCE)], entry["rank"], entry["value"]]
                for name, entry in old.items()
            },
            "sources": [dict(zip(_SOURCE, source, strict=True)) for source in sources],
        }
    )


def _expanded(text: str) -> str:
    new = json.loads(text)
    if set(new) != {"fields", "sources"}:
        return text
    return _dumps(
        {
            name: {**new["sources"][source], "rank": rank, "value": value}
            for name, (source, rank, value) in new["fields"].items()
        }
    )


def _rewrite(convert: Callable[[str], str]) -> None:
    """Every person's golden text through ``convert``, in keyset pages."""
    bind = op.get_bind()
    after = ""
    while True:
        rows = bind.execute(
            sa.select(_person.c.id, _person.c.golden)
            .where(_person.c.id > after)
            .order_by(_person.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        changed = [
            {"key": person_id, "golden": fresh}
            for person_id, text in rows
            if (fresh := convert(text)) != text
        ]
        if changed:
            bind.execute(
                _person.update()
                .where(_person.c.id == sa.bindparam("key"))
                .values(golden=sa.bindparam("golden")),
                changed,
            )
        after = rows[-1][0]


def upgrade() -> None:
    _rewrite(_compact)


def downgrade() -> None:
    _rewrite(_expanded)
