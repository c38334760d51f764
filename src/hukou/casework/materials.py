"""Material files of a case (补正材料): checked, encrypted, stored, listed and read back.

When the registry cannot prove a fact, the service asks for a material (a 出生医学证明,
a lease); the resident uploads it online or the window scans it. A file is accepted
only if it is what government windows take — PDF, JPEG or PNG, recognised by its first
bytes, not by the name a browser sends — and at most :data:`MAX_BYTES`. The content is
SM4-encrypted under the casework's data key (context :data:`CONTENT_CONTEXT`, declared in
:mod:`hukou.casework.encrypted` so key rotation visits it) with its SM3 digest beside it,
so whoever reads it back can tell it is the file that was handed in.

Reading a file back is reading personal data: the caller records the access (the case
page writes a ledger entry with the case as purpose).
"""

from __future__ import annotations

import base64
import datetime
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from hukou.casework.model import CaseMaterial
from hukou.security.fields import FieldCipher
from hukou.security.sm import sm3

__all__ = [
    "CONTENT_CONTEXT",
    "MAX_BYTES",
    "MAX_FORM_BYTES",
    "MEDIA_TYPES",
    "MaterialError",
    "MaterialFile",
    "Upload",
    "check_upload",
    "materials_of",
    "read_material",
    "store_materials",
]

CONTENT_CONTEXT: Final = "casework.material.content"
MAX_BYTES: Final = 5 * 1024 * 1024
"""5 MiB: a phone photo or a scanned page; more is almost always a mistake."""
MAX_FORM_BYTES: Final = 4 * MAX_BYTES
"""A form larger than this (a few files of MAX_BYTES) is refused before it is read."""
MEDIA_TYPES: Final = ("application/pdf", "image/jpeg", "image/png")
_SIGNATURES: Final = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
_UNSAFE: Final = re.compile(r"[^\w.\-（）() ]+")


class MaterialError(ValueError):
    """A file that cannot be accepted; the message says why (no content in it)."""


@dataclass(frozen=True, slots=True)
class Upload:
    """A file as it arrived, for the material ``material``."""

    material: str
    file_name: str
    content: bytes


@dataclass(frozen=True, slots=True)
class MaterialFile:
    """A stored file, without its content."""

    id: int
    case_id: str
    material: str
    file_name: str
    media_type: str
    size: int
    sm3: str
    uploaded_at: datetime.datetime


def _safe_name(name: str) -> str:
    """The file name to keep and show: its last path part, printable, at most 100 characters.

    >>> _safe_name("C:\\\\fakepath\\\\出生证明 (1).pdf")
    '出生证明 (1).pdf'
    >>> _safe_name("../../etc/passwd<script>")
    'passwdscript'
    """
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name))[-1]
    cleaned = _UNSAFE.sub("", base).strip(" .")
    return cleaned[:100] or "file"


def check_upload(upload: Upload) -> str:
    """The media type of an acceptable file; :class:`MaterialError` otherwise."""
    if not upload.content:
        raise MaterialError("the file is empty")
    if len(upload.content) > MAX_BYTES:
        raise MaterialError(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    for signature, media_type in _SIGNATURES:
        if upload.content.startswith(signature):
            return media_type
    raise MaterialError("only PDF, JPEG or PNG files are accepted")


def store_materials(
    db: Session,
    cipher: FieldCipher,
    case_id: str,
    uploads: list[Upload],
    *,
    by: str,
    now: datetime.datetime,
) -> list[int]:
    """Check every file, then store them all (none if one is refused); their ids."""
    types = [check_upload(upload) for upload in uploads]
    rows = [
        CaseMaterial(
            case_id=case_id,
            material=upload.material,
            file_name=_safe_name(upload.file_name),
            media_type=media_type,
            size=len(upload.content),
            sm3=sm3(upload.content).hex(),
            content_token=cipher.encrypt(
                base64.b64encode(upload.content).decode("ascii"), context=CONTENT_CONTEXT
            ),
            uploaded_by=by,
            uploaded_at=now,
        )
        for upload, media_type in zip(uploads, types, strict=True)
    ]
    db.add_all(rows)
    db.flush()
    return [row.id for row in rows]


def _file(row: CaseMaterial) -> MaterialFile:
    return MaterialFile(
        row.id,
        row.case_id,
        row.material,
        row.file_name,
        row.media_type,
        row.size,
        row.sm3,
        row.uploaded_at,
    )


def materials_of(db: Session, case_id: str) -> list[MaterialFile]:
    """The files handed in for a case, in the order they came."""
    rows = db.scalars(
        select(CaseMaterial).where(CaseMaterial.case_id == case_id).order_by(CaseMaterial.id)
    )
    return [_file(row) for row in rows]


def read_material(
    db: Session, cipher: FieldCipher, case_id: str, material_id: int
) -> tuple[MaterialFile, bytes]:
    """A file of the case and its content, checked against its SM3 digest.

    :class:`LookupError` if the case has no such file.
    """
    row = db.get(CaseMaterial, material_id)
    if row is None or row.case_id != case_id:
        raise LookupError(f"no material {material_id} in this case")
    content = base64.b64decode(cipher.decrypt(row.content_token, context=CONTENT_CONTEXT))
    if sm3(content).hex() != row.sm3:
        raise MaterialError("the stored file does not match its digest")
    return _file(row), content
