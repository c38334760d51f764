"""Field tokens and blind indexes: format, tampering, contexts, keys, rotation, bulk."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hukou.security.fields import (
    TOKEN_PREFIX,
    FieldCipher,
    MalformedTokenError,
    UnknownKeyError,
)
from hukou.security.keys import KeyRing
from hukou.security.sm import DecryptionError, hmac_sm3, sm4_gcm_encrypt

ID_CONTEXT = "registry.person.identity_number"
PHONE_CONTEXT = "registry.person.phone"
IDENTITY = "11010519491231002X"
TOKEN_SHAPE = re.compile(r"sm4gcm:v1:(k2025[a-z]):([A-Za-z0-9_-]+)")


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate("k2025a")


@pytest.fixture(scope="module")
def cipher(ring: KeyRing) -> FieldCipher:
    return FieldCipher(ring)


def _payload(token: str) -> bytes:
    text = token.rsplit(":", 1)[1]
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _token_with(token: str, payload: bytes) -> str:
    head = token.rsplit(":", 1)[0]
    return f"{head}:{base64.urlsafe_b64encode(payload).rstrip(b'=').decode()}"


# --- format ---------------------------------------------------------------------------


def test_token_layout_is_nonce_ciphertext_tag_under_the_context(
    cipher: FieldCipher, ring: KeyRing
) -> None:
    """Decode the token by hand and recompute it with the primitive: the format is as documented."""
    token = cipher.encrypt(IDENTITY, context=ID_CONTEXT)
    match = TOKEN_SHAPE.fullmatch(token)
    assert match is not None
    assert match.group(1) == "k2025a"
    assert "=" not in token
    payload = _payload(token)
    nonce, sealed = payload[:12], payload[12:]
    assert len(sealed) == len(IDENTITY) + 16
    assert sealed == sm4_gcm_encrypt(ring.active_key, nonce, IDENTITY.encode(), ID_CONTEXT.encode())


def test_tokens_never_contain_the_value(cipher: FieldCipher) -> None:
    token = cipher.encrypt(IDENTITY, context=ID_CONTEXT)
    assert IDENTITY not in token
    assert IDENTITY[-6:] not in token


def test_equal_values_give_different_tokens(cipher: FieldCipher) -> None:
    tokens = {cipher.encrypt("13800138000", context=PHONE_CONTEXT) for _ in range(100)}
    assert len(tokens) == 100
    assert len({_payload(t)[:12] for t in tokens}) == 100  # fresh nonces


@given(value=st.text(max_size=200))
def test_round_trip(value: str) -> None:
    cipher = FieldCipher(KeyRing.generate("k2025a"))
    assert cipher.decrypt(cipher.encrypt(value, context=ID_CONTEXT), context=ID_CONTEXT) == value


def test_round_trip_of_chinese_text_and_empty(cipher: FieldCipher) -> None:
    for value in ("", "张三", "高血压；糖尿病", "新疆维吾尔自治区乌鲁木齐市"):
        token = cipher.encrypt(value, context="registry.person.health")
        assert cipher.decrypt(token, context="registry.person.health") == value


# --- what must fail -------------------------------------------------------------------


def test_every_flipped_payload_byte_is_detected(cipher: FieldCipher) -> None:
    token = cipher.encrypt(IDENTITY, context=ID_CONTEXT)
    payload = _payload(token)
    for position in range(len(payload)):
        altered = bytearray(payload)
        altered[position] ^= 0x80
        with pytest.raises(DecryptionError) as caught:
            cipher.decrypt(_token_with(token, bytes(altered)), context=ID_CONTEXT)
        assert IDENTITY not in str(caught.value)


def test_a_token_moved_to_another_column_fails(cipher: FieldCipher) -> None:
    token = cipher.encrypt(IDENTITY, context=ID_CONTEXT)
    with pytest.raises(DecryptionError, match="wrong context") as caught:
        cipher.decrypt(token, context=PHONE_CONTEXT)
    assert IDENTITY not in str(caught.value)


def test_another_ring_with_the_same_key_id_fails(cipher: FieldCipher) -> None:
    token = cipher.encrypt(IDENTITY, context=ID_CONTEXT)
    stranger = FieldCipher(KeyRing.generate("k2025a"))
    with pytest.raises(DecryptionError):
        stranger.decrypt(token, context=ID_CONTEXT)


def test_a_key_id_not_in_the_ring_is_reported(cipher: FieldCipher) -> None:
    token = cipher.encrypt(IDENTITY, context=ID_CONTEXT)
    stranger = FieldCipher(KeyRing.generate("k2030a"))
    with pytest.raises(UnknownKeyError, match="'k2025a', not in the key ring"):
        stranger.decrypt(token, context=ID_CONTEXT)


def test_relabelled_key_id_fails() -> None:
    ring = KeyRing.generate("k2025a").with_new_key("k2025b")
    cipher = FieldCipher(ring)
    token = cipher.encrypt(IDENTITY, context=ID_CONTEXT)
    relabelled = token.replace(":k2025b:", ":k2025a:")
    with pytest.raises(DecryptionError):
        cipher.decrypt(relabelled, context=ID_CONTEXT)


@pytest.mark.parametrize(
    "token",
    [
        IDENTITY,  # a plaintext left behind in an encrypted column
        "",
        "sm4gcm:v2:k2025a:AAAA",
        "sm4gcm:v1::AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "sm4gcm:v1:k2025a:not base64!",
        "sm4gcm:v1:k2025a:AAAAA",  # impossible base64 length
        "sm4gcm:v1:k2025a:AAAAAAAA",  # shorter than nonce + tag
        "sm4gcm:v1:k2025a:AAAA:AAAA",
    ],
)
def test_malformed_tokens(cipher: FieldCipher, token: str) -> None:
    with pytest.raises(MalformedTokenError) as caught:
        cipher.decrypt(token, context=ID_CONTEXT)
    assert isinstance(caught.value, DecryptionError)
    assert IDENTITY not in str(caught.value)
    with pytest.raises(MalformedTokenError):
        cipher.key_id(token)


@pytest.mark.parametrize("context", ["", None])
def test_a_context_is_required(cipher: FieldCipher, context: str | None) -> None:
    with pytest.raises(ValueError, match="context is required"):
        cipher.encrypt(IDENTITY, context=context)  # type: ignore[arg-type]


# --- rotation -------------------------------------------------------------------------


def test_rotation() -> None:
    old_ring = KeyRing.generate("k2025a")
    old = FieldCipher(old_ring)
    old_token = old.encrypt(IDENTITY, context=ID_CONTEXT)

    new = FieldCipher(old_ring.with_new_key("k2025b"))
    assert new.decrypt(old_token, context=ID_CONTEXT) == IDENTITY  # old tokens still readable
    new_token = new.encrypt(IDENTITY, context=ID_CONTEXT)
    assert new.key_id(new_token) == "k2025b"
    assert new.key_id(old_token) == "k2025a"
    assert new.needs_rotation(old_token)
    assert not new.needs_rotation(new_token)
    assert old.needs_rotation(new_token)  # a stale process sees the newer key as foreign
    with pytest.raises(UnknownKeyError):
        old.decrypt(new_token, context=ID_CONTEXT)

    rotated = new.reencrypt(old_token, context=ID_CONTEXT)
    assert new.key_id(rotated) == "k2025b"
    assert new.decrypt(rotated, context=ID_CONTEXT) == IDENTITY
    assert new.reencrypt(rotated, context=ID_CONTEXT) == rotated  # already current: unchanged


def test_reencrypt_checks_the_token_first() -> None:
    ring = KeyRing.generate("k2025a")
    token = FieldCipher(ring).encrypt(IDENTITY, context=ID_CONTEXT)
    new = FieldCipher(ring.with_new_key("k2025b"))
    with pytest.raises(DecryptionError):
        new.reencrypt(token, context=PHONE_CONTEXT)
    current = new.encrypt(IDENTITY, context=ID_CONTEXT)
    with pytest.raises(DecryptionError):  # even when no re-encryption is needed
        new.reencrypt(current, context=PHONE_CONTEXT)


# --- blind index ----------------------------------------------------------------------


def test_blind_index_is_hmac_sm3_of_purpose_nul_value(cipher: FieldCipher, ring: KeyRing) -> None:
    index = cipher.blind_index(IDENTITY, purpose="person.identity_number")
    expected = hmac_sm3(ring.index_key, b"person.identity_number\0" + IDENTITY.encode()).hex()
    assert index == expected
    assert re.fullmatch(r"[0-9a-f]{64}", index)


def test_blind_index_is_deterministic_and_separated_by_purpose(cipher: FieldCipher) -> None:
    a = cipher.blind_index("13800138000", purpose="person.phone")
    assert a == cipher.blind_index("13800138000", purpose="person.phone")
    assert a != cipher.blind_index("13800138000", purpose="contact.phone")
    assert a != cipher.blind_index("13800138001", purpose="person.phone")


def test_purpose_and_value_cannot_be_shifted_into_each_other(cipher: FieldCipher) -> None:
    assert cipher.blind_index("bc", purpose="a") != cipher.blind_index("c", purpose="ab")


def test_blind_index_depends_on_the_index_key_only(ring: KeyRing) -> None:
    value = IDENTITY
    here = FieldCipher(ring).blind_index(value, purpose="p")
    assert FieldCipher(ring.with_new_key("k2025z")).blind_index(value, purpose="p") == here
    assert FieldCipher(KeyRing.generate("k2025a")).blind_index(value, purpose="p") != here


def test_blind_index_uses_a_key_other_than_the_field_key(ring: KeyRing) -> None:
    index = FieldCipher(ring).blind_index(IDENTITY, purpose="p")
    assert index != hmac_sm3(ring.active_key, b"p\0" + IDENTITY.encode()).hex()


@pytest.mark.parametrize("purpose", ["", "a\0b"])
def test_bad_purposes_are_refused(cipher: FieldCipher, purpose: str) -> None:
    with pytest.raises(ValueError, match="purpose"):
        cipher.blind_index("x", purpose=purpose)


def test_many_purposes_still_work_beyond_the_cache(cipher: FieldCipher) -> None:
    first = [cipher.blind_index("v", purpose=f"p{i}") for i in range(100)]
    assert first == [cipher.blind_index("v", purpose=f"p{i}") for i in range(100)]
    assert len(set(first)) == 100


# --- bulk -------------------------------------------------------------------------------


def test_encrypt_many_keeps_missing_values_and_order(cipher: FieldCipher) -> None:
    values = ["13800138000", None, "", "13900139000", None]
    tokens = cipher.encrypt_many(values, context=PHONE_CONTEXT)
    assert [t is None for t in tokens] == [v is None for v in values]
    assert cipher.decrypt_many(tokens, context=PHONE_CONTEXT) == values
    nonces = [_payload(t)[:12] for t in tokens if t is not None]
    assert len(set(nonces)) == len(nonces)
    assert cipher.encrypt_many([], context=PHONE_CONTEXT) == []


def test_encrypt_many_tokens_are_ordinary_tokens(cipher: FieldCipher) -> None:
    (token,) = cipher.encrypt_many([IDENTITY], context=ID_CONTEXT)
    assert token is not None
    assert token.startswith(TOKEN_PREFIX + "k2025a:")
    assert cipher.decrypt(token, context=ID_CONTEXT) == IDENTITY
    with pytest.raises(DecryptionError):
        cipher.decrypt(token, context=PHONE_CONTEXT)


def test_decrypt_many_raises_on_a_bad_token(cipher: FieldCipher) -> None:
    tokens = cipher.encrypt_many(["a", "b"], context=ID_CONTEXT)
    with pytest.raises(DecryptionError):
        cipher.decrypt_many(tokens, context=PHONE_CONTEXT)


def test_blind_index_many_equals_one_by_one(cipher: FieldCipher) -> None:
    values = [IDENTITY, None, "110105194912310021", ""]
    expected = [None if v is None else cipher.blind_index(v, purpose="p") for v in values]
    assert cipher.blind_index_many(values, purpose="p") == expected


def test_repr_hides_keys(cipher: FieldCipher, ring: KeyRing) -> None:
    assert ring.active_key.hex() not in repr(cipher)
    assert "k2025a" in repr(cipher)
