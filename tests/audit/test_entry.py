"""Ledger entries: their schema, their one canonical encoding, and no secrets inside."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hukou.audit.entry import (
    EntryError,
    EntryKind,
    LedgerEntry,
    Outcome,
    SecretInEntryError,
    canonical_document,
    decode_entry,
    encode_entry,
    find_secret,
)

AT = datetime.datetime(2026, 12, 1, 8, 30, 15, 123456, tzinfo=datetime.UTC)


def access(**changes: Any) -> LedgerEntry:
    values: dict[str, Any] = {
        "actor": "u-1001",
        "department": "110105-rsj",
        "purpose": "social_insurance.enrolment",
        "person_id": "R0123456789abcdef0123",
        "fields": ("name", "birth_date"),
        "outcome": Outcome.ALLOWED,
        "case_id": "C2026-000123",
        "at": AT,
        "nonce": "ab" * 16,
    }
    values.update(changes)
    return LedgerEntry.access(**values)


def test_encoding_is_sorted_compact_utf8_with_every_key() -> None:
    data = encode_entry(access(department="苏州市人社局"), 42)
    text = data.decode("utf-8")
    document = json.loads(text)
    assert list(document) == sorted(document)
    assert text == json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert "苏州市人社局" in text  # UTF-8, not \u escapes
    assert document["seq"] == 42
    assert document["v"] == 1
    assert document["at"] == "2026-12-01T08:30:15.123456Z"
    assert document["capability"] is None
    assert document["fields"] == ["name", "birth_date"]


texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=30
).filter(lambda value: bool(value.strip()) and find_secret(value) is None)


@given(
    actor=texts,
    purpose=texts,
    case_id=st.none() | texts,
    fields=st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9_.:-]{0,10}", fullmatch=True), min_size=1),
    seq=st.integers(min_value=0, max_value=2**63),
)
def test_the_encoding_is_exactly_sorted_compact_json(
    actor: str, purpose: str, case_id: str | None, fields: list[str], seq: int
) -> None:
    entry = access(actor=actor, purpose=purpose, case_id=case_id, fields=fields)
    expected = json.dumps(
        canonical_document(entry, seq), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert encode_entry(entry, seq) == expected.encode("utf-8")
    assert decode_entry(expected) == (seq, entry)


def test_round_trip_and_sequence_number_is_part_of_the_bytes() -> None:
    entry = access()
    assert decode_entry(encode_entry(entry, 3)) == (3, entry)
    assert encode_entry(entry, 3) != encode_entry(entry, 4)


def test_state_change_round_trip() -> None:
    entry = LedgerEntry.state_change(
        actor="system",
        department="platform",
        capability="casework",
        action="decide",
        object_id="case-77",
        outcome=Outcome.SUCCEEDED,
        person_id="R00000000000000000001",
        at=AT,
    )
    seq, decoded = decode_entry(encode_entry(entry, 0))
    assert (seq, decoded) == (0, entry)
    assert decoded.kind is EntryKind.STATE_CHANGE


def test_timestamps_are_kept_in_utc() -> None:
    beijing = datetime.timezone(datetime.timedelta(hours=8))
    entry = access(at=datetime.datetime(2026, 12, 1, 16, 30, 15, 123456, tzinfo=beijing))
    assert entry.at == AT
    assert entry.at.tzinfo is datetime.UTC
    with pytest.raises(EntryError, match="timezone-aware"):
        access(at=datetime.datetime(2026, 12, 1, 8, 30))


def test_nonces_differ_so_equal_events_have_different_leaves() -> None:
    first = LedgerEntry.access(
        actor="a", department="d", purpose="p", fields=["name"], outcome=Outcome.DENIED, at=AT
    )
    second = LedgerEntry.access(
        actor="a", department="d", purpose="p", fields=["name"], outcome=Outcome.DENIED, at=AT
    )
    assert first.nonce != second.nonce
    assert encode_entry(first, 0) != encode_entry(second, 0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"actor": ""}, "actor must not be blank"),
        ({"purpose": None}, "purpose is required"),
        ({"fields": ()}, "names the fields"),
        ({"fields": ("name", "bad field")}, r"fields\[1\] is not a field name"),
        ({"outcome": Outcome.SUCCEEDED}, "outcome of access entries"),
        ({"department": "x" * 201}, "longer than 200"),
        ({"case_id": "a\nb"}, "case_id contains a control character"),
        ({"nonce": "short"}, "nonce must be"),
        ({"actor": 5}, "actor must be text"),
    ],
)
def test_invalid_entries_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(EntryError, match=message):
        access(**changes)


def test_state_change_needs_capability_action_and_object() -> None:
    with pytest.raises(EntryError, match="capability is required"):
        LedgerEntry(
            kind=EntryKind.STATE_CHANGE, actor="a", department="d", outcome=Outcome.SUCCEEDED
        )
    with pytest.raises(EntryError, match="kind or outcome"):
        LedgerEntry(kind="other", actor="a", department="d", outcome=Outcome.SUCCEEDED)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value", "looks_like"),
    [
        ("person_id", "11010519491231002X", "an identity number"),
        ("case_id", "case for 110105194912310021 today", "an identity number"),
        ("case_id", "110105491231002", "an identity number"),  # the old 15 digits
        ("case_id", "１１０１０５１９４９１２３１００２Ｘ", "an identity number"),  # full width
        ("case_id", "13812345678", "a mobile phone number"),
        ("case_id", "+86 138-1234-5678", "a mobile phone number"),
        ("purpose", "password=hunter22", "a credential"),
        ("purpose", "Authorization: Bearer abcdefghijkl", "a credential"),
        ("case_id", "-----BEGIN PRIVATE KEY-----", "a PEM key or certificate"),
        ("case_id", "PRIVATE+KEY+hukou+12345678+AAAA", "a signer key"),
        ("case_id", "sm4gcm:v1:k2025a:AAAAAAAAAAAAAAAA", "an SM4 ciphertext token"),
        ("case_id", "$argon2id$v=19$m=65536", "a password hash"),
        ("case_id", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.x", "a JSON web token"),
        ("case_id", "q8Vw3Kx9Zt2Lm5Np7Rb4Hc6Jd1Fg0Sa8Ye3Uo5Ii9Kl2", "a key or token"),
    ],
)
def test_secrets_are_refused_without_repeating_them(
    field: str, value: str, looks_like: str
) -> None:
    with pytest.raises(SecretInEntryError) as raised:
        access(**{field: value})
    message = str(raised.value)
    assert message == f"{field} looks like {looks_like}; entries carry no secrets"
    assert value not in message


def test_secret_in_a_field_name_is_named_by_position() -> None:
    with pytest.raises(SecretInEntryError, match=r"fields\[1\] looks like a credential"):
        access(fields=("name", "token:abc"))


@pytest.mark.parametrize(
    "value",
    [
        "R0123456789abcdef0123",  # a registry person id
        "R000000000000000005a0",  # 18 digits inside a hex id are not an identity number
        "R00000000000000000000",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # a digest
        "6f9619ff-8b86-d011-b42d-00c04fc964ff",  # a UUID
        "C2026-000123",
        "110105",  # a division code
        "2026-12-01",
        "social_insurance.enrolment",
        "苏州市公安局",
        "token_rotation",  # a word, not a credential
    ],
)
def test_ordinary_identifiers_pass(value: str) -> None:
    assert find_secret(value) is None
    access(case_id=value, actor=value)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t.replace(b'"v":1', b'"v":2'),
        lambda t: t.replace(b'"case_id":"C2026-000123",', b""),
        lambda t: t.replace(b"}", b',"extra":1}'),
        lambda t: t.replace(b",", b", ", 1),  # not compact
        lambda t: t.replace(b'"seq":5', b'"seq":-1'),
        lambda t: t.replace(b"08:30:15.123456Z", b"08:30:15Z"),
        lambda t: t.replace(b"Z", b"+00:00"),
        lambda t: b"[]",
        lambda t: b"\xff",
    ],
)
def test_decode_refuses_non_canonical_text(mangle: Any) -> None:
    data = encode_entry(access(), 5)
    with pytest.raises(EntryError):
        decode_entry(mangle(data))
