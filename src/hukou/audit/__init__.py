"""The verifiable audit ledger: Merkle trees, proofs, signed checkpoints, and their storage.

Every access to personal data becomes a ledger entry; a resident or auditor
who holds a signed tree head can check that an entry is in the ledger and that
the ledger only grew, without trusting the platform that keeps it.

- :mod:`~hukou.audit.merkle`: RFC 6962 / RFC 9162 trees over SM3 (or SHA-256),
  inclusion and consistency proofs, their verifiers, and the writer's
  :class:`Frontier`;
- :mod:`~hukou.audit.checkpoint`: tree heads as C2SP checkpoints, signed notes
  with Ed25519 (``cryptography`` has no SM2).

- :mod:`~hukou.audit.entry`: what an entry says and its canonical bytes;
- :mod:`~hukou.audit.ledger`: the ledger in the database (append, checkpoint,
  proofs from stored subtree hashes, ``verify``); see docs/audit.md. Its
  ``checkpoint``, ``inclusion_proof`` and ``consistency_proof`` are reached as
  ``ledger.<name>``: the package names are the module and the pure functions.

The tree and checkpoint modules touch no database: the ledger hands in leaf
hashes (or stored subtree hashes) and keeps what :meth:`Frontier.append`
returns. Verifiers raise
a :class:`ValueError` subclass (:class:`InvalidProofError`,
:class:`CheckpointError`) instead of returning ``False``, so a forgotten check
cannot pass silently.
"""

from hukou.audit import ledger  # checkpoint and the stored-node proofs: ledger.<name>
from hukou.audit.checkpoint import (
    Checkpoint,
    CheckpointError,
    InvalidSignatureError,
    MalformedCheckpointError,
    MalformedKeyError,
    NoteSignature,
    NoteSigner,
    NoteVerifier,
    OriginMismatchError,
    UnverifiedCheckpointError,
    VerifiedNote,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    sign_checkpoint,
    sign_note,
)
from hukou.audit.entry import (
    EntryError,
    EntryKind,
    LedgerEntry,
    Outcome,
    SecretInEntryError,
    decode_entry,
    encode_entry,
)
from hukou.audit.ledger import (
    ConsistencyProof,
    CorruptLedgerError,
    Finding,
    InclusionProof,
    LedgerError,
    OutOfRangeError,
    StoredCheckpoint,
    VerifyReport,
    append,
    create_ledger,
    latest_checkpoint,
    ledger_size,
    read_entry,
    verify,
)
from hukou.audit.merkle import (
    DEFAULT_HASHER,
    SHA256_HASHER,
    SM3_HASHER,
    Frontier,
    InvalidProofError,
    LeafHashes,
    Node,
    NodeLookup,
    TreeHasher,
    consistency_proof,
    inclusion_proof,
    root_from_inclusion_proof,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "DEFAULT_HASHER",
    "SHA256_HASHER",
    "SM3_HASHER",
    "Checkpoint",
    "CheckpointError",
    "ConsistencyProof",
    "CorruptLedgerError",
    "EntryError",
    "EntryKind",
    "Finding",
    "Frontier",
    "InclusionProof",
    "InvalidProofError",
    "InvalidSignatureError",
    "LeafHashes",
    "LedgerEntry",
    "LedgerError",
    "MalformedCheckpointError",
    "MalformedKeyError",
    "Node",
    "NodeLookup",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "OriginMismatchError",
    "OutOfRangeError",
    "Outcome",
    "SecretInEntryError",
    "StoredCheckpoint",
    "TreeHasher",
    "UnverifiedCheckpointError",
    "VerifiedNote",
    "VerifyReport",
    "append",
    "consistency_proof",
    "create_ledger",
    "decode_entry",
    "encode_entry",
    "inclusion_proof",
    "latest_checkpoint",
    "ledger",
    "ledger_size",
    "open_checkpoint",
    "open_note",
    "parse_checkpoint",
    "read_entry",
    "root_from_inclusion_proof",
    "sign_checkpoint",
    "sign_note",
    "tree_root",
    "verify",
    "verify_consistency",
    "verify_inclusion",
]
