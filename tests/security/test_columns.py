"""Encrypted-column declarations: one per capability, found without a central list."""

from __future__ import annotations

import pytest

from hukou.accounts.store import TOTP_CONTEXT
from hukou.casework.materials import CONTENT_CONTEXT
from hukou.registry.ingest import IDENTITY_CONTEXT
from hukou.security.columns import EncryptedColumn, check_unique, discover


def test_discover_finds_every_capabilitys_declarations() -> None:
    found = {(c.table, c.column): c for c in discover()}
    assert set(found) == {
        ("accounts_user", "totp_secret"),
        ("casework_material", "content_token"),
        ("registry_record", "identity_token"),
        ("registry_record", "fields"),
        ("registry_quarantine", "raw_token"),
        ("registry_person", "identity_token"),
        ("registry_person", "golden"),
    }
    assert found["accounts_user", "totp_secret"].context_for() == TOTP_CONTEXT
    assert found["casework_material", "content_token"].context_for() == CONTENT_CONTEXT
    assert found["registry_record", "identity_token"].context_for() == IDENTITY_CONTEXT
    assert found["registry_person", "golden"].context_for("phone") == "registry.record.phone"


@pytest.mark.parametrize(
    "arguments",
    [
        {"context": None, "json_context": None},
        {"context": "a", "json_context": "b.{key}"},
    ],
)
def test_exactly_one_kind_of_context(arguments: dict[str, str | None]) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        EncryptedColumn("t", "id", "c", **arguments)


def test_names_go_into_sql_so_they_must_be_plain() -> None:
    with pytest.raises(ValueError, match="plain SQL identifier"):
        EncryptedColumn("t; DROP TABLE x", "id", "c", context="a")


def test_a_json_column_needs_a_key_and_duplicates_are_refused() -> None:
    column = EncryptedColumn("t", "id", "c", json_context="t.{key}")
    with pytest.raises(ValueError, match="needs a key"):
        column.context_for()
    with pytest.raises(ValueError, match="declared twice"):
        check_unique([column, EncryptedColumn("t", "id", "c", context="x")])


def test_a_json_member_holds_the_keyed_values() -> None:
    golden = {c.column: c for c in discover() if c.table == "registry_person"}["golden"]
    document = {"fields": {"phone": [0, 1, "sm4gcm:…"]}, "sources": [{"file": "a.csv"}]}
    assert golden.keyed(document) == {"phone": [0, 1, "sm4gcm:…"]}
    whole = EncryptedColumn("t", "id", "c", json_context="t.{key}")
    assert whole.keyed(document) is document
    with pytest.raises(ValueError, match="needs json_context"):
        EncryptedColumn("t", "id", "c", context="a", json_member="fields")
