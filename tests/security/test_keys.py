"""Key ring, key file and the key commands: formats, errors without key material, 0600."""

from __future__ import annotations

import copy
import json
import os
import pickle
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hukou.security.cli import security_app
from hukou.security.fields import FieldCipher
from hukou.security.keys import (
    INDEX_KEY_SIZE,
    KeyFileError,
    KeyRing,
    generate_key_file,
    is_private,
    rotate,
)

runner = CliRunner()

FIELD_HEX = "00112233445566778899aabbccddeeff"
OTHER_HEX = "ffeeddccbbaa99887766554433221100"
INDEX_HEX = "a5" * 32


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "version": 1,
        "active": "k2025a",
        "keys": {"k2025a": FIELD_HEX, "k2025b": OTHER_HEX},
        "index_key": INDEX_HEX,
    }
    document.update(changes)
    return document


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """A umask that would make new files world-readable, to prove 0600 does not depend on it."""
    previous = os.umask(0o000)
    yield
    os.umask(previous)


# --- loading --------------------------------------------------------------------------


def test_a_valid_document_loads() -> None:
    ring = KeyRing.from_json(json.dumps(_document()))
    assert ring.active_key_id == "k2025a"
    assert ring.key_ids == ("k2025a", "k2025b")
    assert ring.active_key == bytes.fromhex(FIELD_HEX)
    assert ring.key("k2025b") == bytes.fromhex(OTHER_HEX)
    assert ring.index_key == bytes.fromhex(INDEX_HEX)
    assert "k2025b" in ring
    assert "k2025z" not in ring


def test_to_json_round_trips() -> None:
    ring = KeyRing.generate("k2025a").with_new_key("k2025b")
    again = KeyRing.from_json(ring.to_json())
    assert again.key_ids == ring.key_ids
    assert again.active_key_id == "k2025b"
    assert all(again.key(k) == ring.key(k) for k in ring.key_ids)
    assert again.index_key == ring.index_key


BAD_DOCUMENTS: list[tuple[str, str, str]] = [
    ("bad JSON", '{"version": 1,', "not valid JSON"),
    ("not an object", "[1, 2]", "must be a JSON object"),
    ("wrong version", json.dumps(_document(version=2)), "unsupported version"),
    ("no version", json.dumps({k: v for k, v in _document().items() if k != "version"}), "version"),
    ("no keys", json.dumps(_document(keys={})), "non-empty object"),
    ("keys not an object", json.dumps(_document(keys=[FIELD_HEX])), "non-empty object"),
    ("unknown active id", json.dumps(_document(active="k2024z")), "'k2024z' is not among"),
    ("active missing", json.dumps(_document(active=None)), "'active' must name"),
    ("short key", json.dumps(_document(keys={"k2025a": FIELD_HEX[:-2]})), "must be 16 bytes"),
    ("long key", json.dumps(_document(keys={"k2025a": FIELD_HEX + "00"})), "must be 16 bytes"),
    ("non-hex key", json.dumps(_document(keys={"k2025a": "zz" * 16})), "not hexadecimal"),
    ("key not a string", json.dumps(_document(keys={"k2025a": 5})), "must be a hex string"),
    ("short index key", json.dumps(_document(index_key="a5" * 16)), "must be 32 bytes"),
    ("index key missing", json.dumps(_document(index_key=None)), "index_key must be a hex"),
    (
        "same key twice",
        json.dumps(_document(keys={"k2025a": FIELD_HEX, "k2025b": FIELD_HEX})),
        "same key",
    ),
    ("index key reuses field key", json.dumps(_document(index_key=FIELD_HEX * 2)), "reuses"),
    (
        "malformed key id",
        json.dumps(_document(active="k:1", keys={"k:1": FIELD_HEX})),
        "key id is malformed",
    ),
]


@pytest.mark.parametrize(
    ("text", "message"), [(t, m) for _, t, m in BAD_DOCUMENTS], ids=[n for n, _, _ in BAD_DOCUMENTS]
)
def test_invalid_documents_are_refused_without_key_material(text: str, message: str) -> None:
    with pytest.raises(KeyFileError, match=message) as caught:
        KeyRing.from_json(text, source="key file /etc/hukou/keys.json")
    text_of_error = str(caught.value)
    assert text_of_error.startswith("key file /etc/hukou/keys.json: ")
    for material in (FIELD_HEX, OTHER_HEX, INDEX_HEX, FIELD_HEX[:-2], "a5" * 16):
        assert material not in text_of_error
    # No chained exception (e.g. a decoder error quoting the input) is shown in a traceback.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_a_key_pasted_in_place_of_an_id_is_not_echoed() -> None:
    document = _document(active=FIELD_HEX, keys={FIELD_HEX: "k2025a"})
    with pytest.raises(KeyFileError) as caught:
        KeyRing.from_json(json.dumps(document))
    assert FIELD_HEX not in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist"):
        KeyRing.from_file(tmp_path / "absent.json")


def test_unreadable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(KeyFileError, match="not UTF-8"):
        KeyRing.from_file(path)


def test_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(_document(active="k1999x")), encoding="utf-8")
    with pytest.raises(KeyFileError, match=rf"key file {path}: active key id 'k1999x'"):
        KeyRing.from_file(path)


def test_from_env() -> None:
    ring = KeyRing.from_env("HUKOU_KEYS", {"HUKOU_KEYS": json.dumps(_document())})
    assert ring.active_key_id == "k2025a"
    with pytest.raises(KeyFileError, match="environment variable HUKOU_KEYS is not set"):
        KeyRing.from_env("HUKOU_KEYS", {})
    with pytest.raises(KeyFileError, match="environment variable HUKOU_KEYS: not valid JSON"):
        KeyRing.from_env("HUKOU_KEYS", {"HUKOU_KEYS": "{"})


def test_from_env_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUKOU_TEST_KEYS", json.dumps(_document()))
    assert KeyRing.from_env("HUKOU_TEST_KEYS").key_ids == ("k2025a", "k2025b")


# --- the ring itself --------------------------------------------------------------------


def test_ring_is_immutable_and_hides_its_keys() -> None:
    ring = KeyRing.from_json(json.dumps(_document()))
    with pytest.raises(AttributeError):
        ring._active = "k2025b"
    with pytest.raises(AttributeError):
        ring.extra = 1
    with pytest.raises(TypeError):
        ring._keys["k2025c"] = b"x" * 16  # type: ignore[index]
    for material in (FIELD_HEX, OTHER_HEX, INDEX_HEX):
        assert material not in repr(ring)
        assert material not in str(ring)


def test_ring_refuses_pickling_and_copies_to_itself() -> None:
    ring = KeyRing.generate("k2025a")
    with pytest.raises(TypeError, match="load it in each worker process"):
        pickle.dumps(ring)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(FieldCipher(ring))
    assert copy.copy(ring) is ring
    assert copy.deepcopy(ring) is ring


def test_constructor_validates_like_the_loader() -> None:
    with pytest.raises(KeyFileError, match="not among the keys"):
        KeyRing(active="k2", keys={"k1": bytes(16)}, index_key=bytes(INDEX_KEY_SIZE))
    with pytest.raises(KeyFileError, match="must be 16 bytes"):
        KeyRing(active="k1", keys={"k1": bytes(8)}, index_key=bytes(INDEX_KEY_SIZE))


def test_generated_keys_are_random_and_distinct_per_purpose() -> None:
    one, two = KeyRing.generate("k1"), KeyRing.generate("k1")
    assert one.active_key != two.active_key
    assert one.index_key != two.index_key
    assert len(one.active_key) == 16
    assert len(one.index_key) == 32
    assert one.active_key not in (one.index_key[:16], one.index_key[16:])


def test_with_new_key_keeps_old_keys_and_the_index_key() -> None:
    ring = KeyRing.generate("k2025a")
    rotated = ring.with_new_key()
    assert rotated.key_ids[0] == "k2025a"
    assert rotated.active_key_id not in ring
    assert rotated.key("k2025a") == ring.key("k2025a")
    assert rotated.active_key != ring.active_key
    assert rotated.index_key == ring.index_key
    assert ring.key_ids == ("k2025a",)  # the original ring is untouched
    with pytest.raises(KeyFileError, match="already exists"):
        rotated.with_new_key("k2025a")


# --- key files ----------------------------------------------------------------------


@pytest.mark.usefixtures("permissive_umask")
def test_generated_file_is_0600_and_loads(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    ring = generate_key_file(path, key_id="k2025a")
    assert _mode(path) == 0o600
    assert is_private(path)
    loaded = KeyRing.from_file(path)
    assert loaded.key_ids == ("k2025a",)
    assert loaded.active_key == ring.active_key
    assert loaded.index_key == ring.index_key


def test_generate_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text("precious", encoding="utf-8")
    with pytest.raises(KeyFileError, match="already exists; refusing to overwrite"):
        generate_key_file(path)
    assert path.read_text(encoding="utf-8") == "precious"


def test_generate_into_a_missing_folder_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="cannot be written"):
        generate_key_file(tmp_path / "absent" / "keys.json")


@pytest.mark.usefixtures("permissive_umask")
def test_rotate_adds_an_active_key_and_keeps_the_file_private(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    first = generate_key_file(path, key_id="k2025a")
    rotated = rotate(path, key_id="k2025b")
    assert rotated.active_key_id == "k2025b"
    loaded = KeyRing.from_file(path)
    assert loaded.key_ids == ("k2025a", "k2025b")
    assert loaded.active_key_id == "k2025b"
    assert loaded.key("k2025a") == first.active_key
    assert loaded.index_key == first.index_key
    assert _mode(path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.json"]  # no temporary left


def test_rotate_with_an_existing_id_leaves_the_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    generate_key_file(path, key_id="k2025a")
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match="already exists"):
        rotate(path, key_id="k2025a")
    assert path.read_bytes() == before


def test_rotate_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist"):
        rotate(tmp_path / "absent.json")


def test_rotate_failure_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "keys.json"
    generate_key_file(path, key_id="k2025a")
    before = path.read_bytes()

    def failing_replace(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(KeyFileError, match="cannot be rewritten"):
        rotate(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.json"]


def test_is_private(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("x", encoding="utf-8")
    path.chmod(0o644)
    assert not is_private(path)
    path.chmod(0o600)
    assert is_private(path)


# --- commands ---------------------------------------------------------------------------


def test_cli_keygen_creates_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    result = runner.invoke(security_app, ["keygen", "--out", str(path), "--key-id", "k2025a"])
    assert result.exit_code == 0, result.output
    assert "active key k2025a" in result.stdout
    assert _mode(path) == 0o600
    ring = KeyRing.from_file(path)
    assert ring.active_key.hex() not in result.output
    assert ring.index_key.hex() not in result.output


def test_cli_keygen_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    generate_key_file(path)
    before = path.read_bytes()
    result = runner.invoke(security_app, ["keygen", "--out", str(path)])
    assert result.exit_code == 1
    assert "refusing to overwrite" in result.stderr
    assert path.read_bytes() == before


def test_cli_rotate_then_status(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    generate_key_file(path, key_id="k2025a")
    result = runner.invoke(security_app, ["rotate", "--file", str(path), "--key-id", "k2025b"])
    assert result.exit_code == 0, result.output
    assert "active key k2025b, 2 keys" in result.stdout

    result = runner.invoke(security_app, ["status", "--file", str(path)])
    assert result.exit_code == 0, result.output
    assert "active key: k2025b" in result.stdout
    assert "field keys: 2 (k2025a, k2025b)" in result.stdout
    ring = KeyRing.from_file(path)
    for key_id in ring.key_ids:
        assert ring.key(key_id).hex() not in result.output
    assert ring.index_key.hex() not in result.output
    assert "warning" not in result.stderr


def test_cli_rotate_missing_file_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(security_app, ["rotate", "--file", str(tmp_path / "absent.json")])
    assert result.exit_code == 1
    assert "does not exist" in result.stderr


def test_cli_status_warns_about_a_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    generate_key_file(path)
    path.chmod(0o644)
    result = runner.invoke(security_app, ["status", "--file", str(path)])
    assert result.exit_code == 0
    assert "mode 0644" in result.stderr


def test_cli_status_of_an_invalid_file_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(_document(keys={"k2025a": FIELD_HEX[:-2]})), encoding="utf-8")
    result = runner.invoke(security_app, ["status", "--file", str(path)])
    assert result.exit_code == 1
    assert "must be 16 bytes" in result.stderr
    assert FIELD_HEX[:-2] not in result.output


def test_cli_status_from_the_environment() -> None:
    env = {"HUKOU_KEYS": json.dumps(_document())}
    result = runner.invoke(security_app, ["status", "--env", "HUKOU_KEYS"], env=env)
    assert result.exit_code == 0, result.output
    assert "active key: k2025a" in result.stdout
    assert FIELD_HEX not in result.output


@pytest.mark.parametrize("arguments", [[], ["--file", "a", "--env", "B"]])
def test_cli_status_needs_exactly_one_source(arguments: list[str]) -> None:
    result = runner.invoke(security_app, ["status", *arguments])
    assert result.exit_code == 1
    assert "exactly one of --file and --env" in result.stderr
