"""Keyed pseudonyms: HMAC-SM3 as RFC 2104 writes it, per domain, under a key of their own."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from hukou.security import KeyFileError, KeyRing
from hukou.security.cli import security_app
from hukou.security.pseudonym import (
    PSEUDONYM_ENV,
    PSEUDONYM_FILE_ENV,
    PSEUDONYM_HEX_LENGTH,
    Pseudonymizer,
    PseudonymKey,
    check_apart,
    generate_pseudonym_key_file,
    load_pseudonym_key,
    pseudonym,
)
from hukou.security.sm import sm3

runner = CliRunner()
KEY = PseudonymKey(bytes(range(32)))
NUMBER = "11010519491231002X"


def _hmac_written_out(key: bytes, message: bytes) -> bytes:
    """H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)) over SM3 (64-byte blocks): independent of the library."""
    padded = key.ljust(64, b"\0")  # a 32-byte key is never hashed first
    inner = sm3(bytes(b ^ 0x36 for b in padded) + message)
    return sm3(bytes(b ^ 0x5C for b in padded) + inner)


def test_the_pseudonym_is_the_documented_construction() -> None:
    message = b"hukou.pseudonym.v1\0census-2025\0" + NUMBER.encode()
    expected = _hmac_written_out(bytes(range(32)), message).hex()[:32]
    assert pseudonym(KEY, NUMBER, "census-2025") == expected


@given(
    value=st.text(max_size=40),
    domain=st.text(min_size=1, max_size=20).filter(lambda d: "\0" not in d),
)
def test_any_value_and_domain(value: str, domain: str) -> None:
    message = b"hukou.pseudonym.v1\0" + domain.encode() + b"\0" + value.encode()
    result = pseudonym(KEY, value, domain)
    assert result == _hmac_written_out(KEY.material, message).hex()[:PSEUDONYM_HEX_LENGTH]
    assert len(result) == 32
    assert int(result, 16) >= 0


def test_same_input_same_pseudonym_other_domain_or_key_unrelated() -> None:
    a = pseudonym(KEY, NUMBER, "census-2025")
    assert a == pseudonym(KEY, NUMBER, "census-2025")
    assert a != pseudonym(KEY, NUMBER, "school-demand")
    assert a != pseudonym(PseudonymKey.generate(), NUMBER, "census-2025")
    assert a != pseudonym(KEY, "11010519491231003X", "census-2025")
    # (domain, value) is unambiguous: moving a character across the separator changes it.
    assert pseudonym(KEY, "b", "a") != pseudonym(KEY, "", "ab")
    assert NUMBER not in a


def test_many_matches_one_and_keeps_missing_values() -> None:
    maker = Pseudonymizer(KEY)
    values = ["P0000001", None, NUMBER]
    assert maker.many(values, domain="d") == [
        maker.one("P0000001", domain="d"),
        None,
        pseudonym(KEY, NUMBER, "d"),
    ]


@pytest.mark.parametrize("domain", ["", "a\0b"])
def test_bad_domains_are_refused(domain: str) -> None:
    with pytest.raises(ValueError, match="domain"):
        pseudonym(KEY, NUMBER, domain)


def test_the_key_never_shows_and_never_pickles() -> None:
    key = PseudonymKey.generate()
    assert key.material.hex() not in repr(key)
    assert "hidden" in repr(Pseudonymizer(key))
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(key)
    with pytest.raises(KeyFileError, match="32 bytes"):
        PseudonymKey(b"short")


def test_key_file_round_trip_and_private(tmp_path: Path) -> None:
    path = tmp_path / "pseudonym.json"
    key = generate_pseudonym_key_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert PseudonymKey.from_file(path).material == key.material
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        generate_pseudonym_key_file(path)


def test_the_field_key_file_is_not_a_pseudonym_key(tmp_path: Path) -> None:
    ring = KeyRing.generate("k2025a")
    with pytest.raises(KeyFileError, match="not a pseudonym key"):
        PseudonymKey.from_json(ring.to_json())
    bad = json.dumps({"version": 1, "purpose": "pseudonym", "key": "zz"})
    with pytest.raises(KeyFileError, match="not hexadecimal") as caught:
        PseudonymKey.from_json(bad)
    assert "zz" not in str(caught.value)


def test_loading_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    key = generate_pseudonym_key_file(path)
    assert load_pseudonym_key({PSEUDONYM_FILE_ENV: str(path)}).material == key.material
    assert load_pseudonym_key({PSEUDONYM_ENV: key.to_json()}).material == key.material
    with pytest.raises(KeyFileError, match=PSEUDONYM_FILE_ENV):
        load_pseudonym_key({})


def test_a_pseudonym_key_built_from_a_data_key_is_refused() -> None:
    ring = KeyRing.generate("k2025a")
    check_apart(PseudonymKey.generate(), ring)
    with pytest.raises(KeyFileError, match="reuses a data key"):
        check_apart(PseudonymKey(ring.index_key), ring)
    with pytest.raises(KeyFileError, match="reuses a data key"):
        check_apart(PseudonymKey(ring.active_key * 2), ring)


def test_cli_pseudonym_keygen(tmp_path: Path) -> None:
    path = tmp_path / "pseudonym.json"
    result = runner.invoke(security_app, ["pseudonym-keygen", "--out", str(path)])
    assert result.exit_code == 0, result.output
    assert PSEUDONYM_FILE_ENV in result.output
    key = PseudonymKey.from_file(path)
    assert key.material.hex() not in result.output
    again = runner.invoke(security_app, ["pseudonym-keygen", "--out", str(path)])
    assert again.exit_code == 1
