"""Material files: what is accepted (by content, not by name), stored encrypted and read
back only as it was handed in."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from hukou.casework.materials import (
    MAX_BYTES,
    MaterialError,
    Upload,
    check_upload,
    materials_of,
    read_material,
    store_materials,
)
from hukou.casework.model import CaseMaterial, CaseRow
from hukou.db import session_scope
from hukou.security import KeyRing
from hukou.security.fields import FieldCipher
from hukou.security.sm import sm3

NOW = datetime.datetime(2026, 12, 6, 10, tzinfo=datetime.UTC)
PDF = b"%PDF-1.4\n1 0 obj\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.mark.parametrize(
    ("content", "media_type"),
    [(PDF, "application/pdf"), (JPEG, "image/jpeg"), (PNG, "image/png")],
)
def test_a_file_is_known_by_its_first_bytes(content: bytes, media_type: str) -> None:
    assert check_upload(Upload("diploma", "anything.txt", content)) == media_type


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "empty"),
        (b"MZ\x90\x00 an executable", "only PDF, JPEG or PNG"),
        (b"<html>%PDF-", "only PDF, JPEG or PNG"),
        (PDF + b"\x00" * MAX_BYTES, "larger than 5 MiB"),
    ],
)
def test_a_file_that_cannot_be_taken_says_why(content: bytes, why: str) -> None:
    with pytest.raises(MaterialError, match=why):
        check_upload(Upload("diploma", "x.pdf", content))


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with session_scope(engine) as session:
        session.add(
            CaseRow(
                id="C20261206ABCDEF0123",
                service="household_move",
                channel="online",
                first_contact="public_security",
                filed_by="test",
                state="awaiting_material",
                version=1,
                filed_at=NOW,
                filed_on=NOW.date(),
                limit_workdays=20,
                instant_decision=False,
            )
        )
        session.flush()
        yield session


def test_files_are_stored_encrypted_and_read_back_whole(db: Session) -> None:
    cipher = FieldCipher(KeyRing.generate("k1"))
    case_id = "C20261206ABCDEF0123"
    ids = store_materials(
        db,
        cipher,
        case_id,
        [Upload("diploma", "C:\\fakepath\\毕业证.pdf", PDF), Upload("deed", "房产证.png", PNG)],
        by="u1",
        now=NOW,
    )
    listed = materials_of(db, case_id)
    assert [(m.id, m.file_name, m.sm3) for m in listed] == [
        (ids[0], "毕业证.pdf", sm3(PDF).hex()),
        (ids[1], "房产证.png", sm3(PNG).hex()),
    ]
    row = db.get(CaseMaterial, ids[0])
    assert row is not None
    assert b"%PDF" not in row.content_token.encode()
    found, content = read_material(db, cipher, case_id, ids[0])
    assert (found.media_type, content) == ("application/pdf", PDF)
    with pytest.raises(LookupError):
        read_material(db, cipher, "C20261206FFFFFF0000", ids[0])  # not this case's file
    db.execute(update(CaseMaterial).where(CaseMaterial.id == ids[1]).values(sm3="0" * 64))
    with pytest.raises(MaterialError, match="does not match"):
        read_material(db, cipher, case_id, ids[1])


def test_one_bad_file_stores_none(db: Session) -> None:
    cipher = FieldCipher(KeyRing.generate("k1"))
    with pytest.raises(MaterialError):
        store_materials(
            db,
            cipher,
            "C20261206ABCDEF0123",
            [Upload("diploma", "ok.pdf", PDF), Upload("deed", "bad.exe", b"MZ")],
            by="u1",
            now=NOW,
        )
    assert materials_of(db, "C20261206ABCDEF0123") == []
