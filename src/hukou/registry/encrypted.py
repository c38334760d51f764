"""The registry's encrypted columns, for key rotation and the token census.

Every column of the registry that stores SM4-GCM tokens, with the context each
token was encrypted under (:mod:`hukou.security.columns`). ``hukou keys
reencrypt`` walks exactly these: a column that stores tokens and is missing here
would keep an old key alive, so ``tests/security`` fails when a workload leaves a
token in an undeclared column.
"""

from __future__ import annotations

from typing import Final

from hukou.registry.ingest import IDENTITY_CONTEXT
from hukou.registry.model import QUARANTINE_RAW_CONTEXT, Person, QuarantinedRow, SourceRecord
from hukou.registry.persons import PERSON_IDENTITY_CONTEXT
from hukou.security.columns import EncryptedColumn

__all__ = ["ENCRYPTED_COLUMNS"]

# Sensitive standard fields are encrypted per field name, in a record's fields
# (ingest) and in the golden record's values copied from records (link, persons).
_RECORD_FIELD_CONTEXT: Final = "registry.record.{key}"

ENCRYPTED_COLUMNS: Final = (
    EncryptedColumn(
        SourceRecord.__tablename__, "id", SourceRecord.identity_token.key, context=IDENTITY_CONTEXT
    ),
    EncryptedColumn(
        SourceRecord.__tablename__,
        "id",
        SourceRecord.fields.key,
        json_context=_RECORD_FIELD_CONTEXT,
    ),
    EncryptedColumn(
        QuarantinedRow.__tablename__,
        "id",
        QuarantinedRow.raw_token.key,
        context=QUARANTINE_RAW_CONTEXT,
        subject_column=QuarantinedRow.batch_id.key,
    ),
    EncryptedColumn(
        Person.__tablename__, "id", Person.identity_token.key, context=PERSON_IDENTITY_CONTEXT
    ),
    EncryptedColumn(
        Person.__tablename__,
        "id",
        Person.golden.key,
        json_context=_RECORD_FIELD_CONTEXT,
        json_member="fields",
    ),
)
"""Record identity numbers and sensitive fields, quarantined lines, person numbers and
golden values (``{"fields": {"field": [source, rank, <token>]}, ...}``: the token's
context is its field's)."""
