"""Merkle trees of RFC 6962 / RFC 9162 over SM3 (default) or SHA-256: roots, proofs, verification.

The audit ledger is an append-only list of entries; its tree head (size and root
hash) commits to every entry, an *inclusion proof* shows that one entry is in
the list, and a *consistency proof* shows that a later head only appended to an
earlier one. A resident or an auditor who keeps a signed head can therefore
detect a deleted or rewritten access record without trusting the platform.

The tree is exactly the one of RFC 6962 §2.1 (kept by RFC 9162 §2.1): leaf hash
``H(0x00 || data)``, interior hash ``H(0x01 || left || right)``, the empty tree's
root ``H("")``, split at the largest power of two below ``n``. Only the hash
changes: SM3 (GB/T 32905) by default, because the platform's data must be
protected with the national algorithms; SHA-256 for interoperability and for
the published test vectors, which all use it.

Every function takes *leaf hashes*, not entries, so the caller decides how an
entry is serialised and this module never sees personal data.

Design choices:

- **Verifiers raise** :class:`InvalidProofError` (a :class:`ValueError`) and
  return ``None``. A returned ``False`` is silently dropped by a forgotten
  ``if``; an audit check that fails open is worse than none. The exception also
  says *which* check failed (size, length, a hash, the root), which an auditor
  needs in a report.
- **No recursion**: roots and proofs walk the RFC definitions with loops and an
  explicit stack, so 10 million leaves need only O(log n) memory beyond the
  leaves. A proof touches every leaf once (O(n) hashes) unless the caller
  passes ``nodes``, a lookup of stored perfect-subtree hashes (the ones
  :meth:`Frontier.append` reports), which makes it O(log n) reads.
- :class:`Frontier` keeps the O(log n) right-edge subtree hashes (a compact
  range) so the writer gets each new root in O(log n) without re-reading the
  ledger.

>>> leaves = [SHA256_HASHER.hash_leaf(bytes([i])) for i in range(5)]
>>> root = tree_root(leaves, hasher=SHA256_HASHER)
>>> proof = inclusion_proof(leaves, 3, hasher=SHA256_HASHER)
>>> verify_inclusion(leaves[3], 3, 5, proof, root, hasher=SHA256_HASHER)
>>> verify_inclusion(leaves[3], 2, 5, proof, root, hasher=SHA256_HASHER)
Traceback (most recent call last):
...
hukou.audit.merkle.InvalidProofError: inclusion proof for leaf 2 of 5 does not lead to the root hash
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from hukou.security.sm import sm3

__all__ = [
    "DEFAULT_HASHER",
    "SHA256_HASHER",
    "SM3_HASHER",
    "Frontier",
    "InvalidProofError",
    "LeafHashes",
    "Node",
    "NodeLookup",
    "TreeHasher",
    "consistency_proof",
    "inclusion_proof",
    "root_from_inclusion_proof",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class InvalidProofError(ValueError):
    """A proof does not verify: the ledger, the proof or a tree head was altered or mixed up.

    Raised by every ``verify_*`` function, and by :func:`root_from_inclusion_proof`
    for a proof of the wrong shape. The message names the failed check.
    """


@dataclass(frozen=True, slots=True)
class TreeHasher:
    """The RFC 6962 domain-separated hashes over one hash function.

    >>> SM3_HASHER.empty_root().hex()[:16]
    '1ab21d8355cfa17f'
    >>> SHA256_HASHER.hash_leaf(b"").hex()[:16]
    '6e340b9cffb37a98'
    """

    name: str
    digest: Callable[[bytes], bytes]
    digest_size: int

    def hash_leaf(self, data: bytes) -> bytes:
        """``H(0x00 || data)``: the prefix keeps a leaf from passing for an interior node."""
        return self.digest(_LEAF_PREFIX + data)

    def hash_children(self, left: bytes, right: bytes) -> bytes:
        """``H(0x01 || left || right)``."""
        return self.digest(_NODE_PREFIX + left + right)

    def empty_root(self) -> bytes:
        """``H("")``, the root of a tree without leaves."""
        return self.digest(b"")


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


SM3_HASHER = TreeHasher("SM3", sm3, 32)
"""SM3 (GB/T 32905-2016), through :func:`hukou.security.sm.sm3` and its self-tested OpenSSL."""
SHA256_HASHER = TreeHasher("SHA-256", _sha256, 32)
"""SHA-256, the hash of RFC 6962 itself and of every published vector."""
DEFAULT_HASHER = SM3_HASHER
"""The ledger's hash: SM3."""

LeafHashes: TypeAlias = Sequence[bytes] | Callable[[int], bytes]
"""Leaf hashes as a sequence, or a function from a leaf index to its hash (a database read)."""
NodeLookup: TypeAlias = Callable[[tuple[int, int]], bytes | None]
"""``(level, index)`` to the stored hash of the perfect subtree over leaves
``[index * 2**level, (index + 1) * 2**level)``, or ``None`` if it is not stored.

One tuple argument, so that ``dict.get`` of a dict keyed like :attr:`Node.key` fits."""


@dataclass(frozen=True, slots=True)
class Node:
    """A perfect subtree completed by an append, to store under ``(level, index)``."""

    level: int
    index: int
    hash: bytes

    @property
    def key(self) -> tuple[int, int]:
        """``(level, index)``, the key a :data:`NodeLookup` is asked for."""
        return (self.level, self.index)


# --- tree shape -------------------------------------------------------------------------


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n >= 2``): RFC 6962's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def _inclusion_length(index: int, size: int) -> int:
    """How many hashes the audit path of ``index`` in a tree of ``size`` has."""
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def _consistency_length(old_size: int, new_size: int) -> int:
    """How many hashes a consistency proof has, for ``0 < old_size < new_size``."""
    inner = ((old_size - 1) ^ (new_size - 1)).bit_length()
    border = ((old_size - 1) >> inner).bit_count()
    shift = (old_size & -old_size).bit_length() - 1
    # A power-of-two old tree is itself a node of the new one: its root is not sent.
    seed = 0 if old_size == 1 << shift else 1
    return seed + inner - shift + border


# --- computing roots and proofs ---------------------------------------------------------


def _reader(leaves: LeafHashes, size: int | None) -> tuple[Callable[[int], bytes], int]:
    if callable(leaves):
        if size is None:
            raise ValueError("size is required when leaf hashes come from a function")
        return leaves, size
    if size is None:
        size = len(leaves)
    elif size > len(leaves):
        raise ValueError(f"tree size {size} exceeds the {len(leaves)} leaf hashes given")
    return leaves.__getitem__, size


def _perfect_hash(
    read: Callable[[int], bytes],
    level: int,
    index: int,
    hasher: TreeHasher,
    nodes: NodeLookup | None,
) -> bytes:
    """The hash of a perfect subtree: from ``nodes`` if stored, else from its leaves."""
    if nodes is not None:
        stored = nodes((level, index))
        if stored is not None:
            _check_digest(stored, hasher)
            return stored
    start = index << level
    if level == 0:
        leaf = read(start)
        _check_digest(leaf, hasher)
        return leaf
    hash_children = hasher.hash_children
    digest_size = hasher.digest_size
    stack: list[bytes] = []
    for count in range(1, (1 << level) + 1):
        value = read(start + count - 1)
        if len(value) != digest_size:  # inline: this loop runs once per leaf
            _check_digest(value, hasher)
        # Leaf number ``count`` closes one subtree per trailing zero bit of ``count``.
        merges = count
        while not merges & 1:
            value = hash_children(stack.pop(), value)
            merges >>= 1
        stack.append(value)
    return stack[0]


def _range_hash(
    read: Callable[[int], bytes],
    begin: int,
    end: int,
    hasher: TreeHasher,
    nodes: NodeLookup | None,
) -> bytes:
    """MTH of leaves ``[begin, end)`` for the aligned ranges RFC 6962's recursion produces.

    Such a range starts at a multiple of the power of two at or above its
    length, so it splits into perfect subtrees of decreasing size, and MTH is
    their hashes folded from the right.
    """
    parts: list[bytes] = []
    position = begin
    while position < end:
        level = (end - position).bit_length() - 1
        if position:
            level = min(level, (position & -position).bit_length() - 1)
        parts.append(_perfect_hash(read, level, position >> level, hasher, nodes))
        position += 1 << level
    value = parts[-1]
    for left in reversed(parts[:-1]):
        value = hasher.hash_children(left, value)
    return value


def tree_root(
    leaves: LeafHashes,
    size: int | None = None,
    *,
    hasher: TreeHasher = DEFAULT_HASHER,
    nodes: NodeLookup | None = None,
) -> bytes:
    """MTH (RFC 6962 §2.1) of the first ``size`` leaf hashes (all of a sequence by default).

    >>> tree_root([], hasher=SHA256_HASHER).hex()[:16]
    'e3b0c44298fc1c14'
    """
    read, size = _reader(leaves, size)
    if size < 0:
        raise ValueError(f"tree size must not be negative, got {size}")
    if size == 0:
        return hasher.empty_root()
    return _range_hash(read, 0, size, hasher, nodes)


def inclusion_proof(
    leaves: LeafHashes,
    index: int,
    size: int | None = None,
    *,
    hasher: TreeHasher = DEFAULT_HASHER,
    nodes: NodeLookup | None = None,
) -> list[bytes]:
    """The audit path ``PATH(index, D[size])`` of RFC 6962 §2.1.1, bottom hash first.

    Walks the definition from the root down, noting the sibling range at each
    split, then hashes those ranges; the order is reversed at the end because
    the definition appends the sibling *after* the deeper part of the path.
    """
    read, size = _reader(leaves, size)
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    siblings: list[tuple[int, int]] = []
    offset, m, n = 0, index, size
    while n > 1:
        k = _split(n)
        if m < k:
            siblings.append((offset + k, offset + n))
            n = k
        else:
            siblings.append((offset, offset + k))
            offset, m, n = offset + k, m - k, n - k
    return [_range_hash(read, b, e, hasher, nodes) for b, e in reversed(siblings)]


def consistency_proof(
    leaves: LeafHashes,
    old_size: int,
    new_size: int | None = None,
    *,
    hasher: TreeHasher = DEFAULT_HASHER,
    nodes: NodeLookup | None = None,
) -> list[bytes]:
    """``PROOF(old_size, D[new_size])`` of RFC 6962 §2.1.2 (SUBPROOF with ``b = true``).

    Empty when ``old_size`` is 0 or equals ``new_size``: there is nothing to prove.
    """
    read, new_size = _reader(leaves, new_size)
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    ranges: list[tuple[int, int]] = []
    offset, m, n, whole_old_tree = 0, old_size, new_size, True
    while m != n:
        k = _split(n)
        if m <= k:
            ranges.append((offset + k, offset + n))
            n = k
        else:
            ranges.append((offset, offset + k))
            offset, m, n, whole_old_tree = offset + k, m - k, n - k, False
    # SUBPROOF(m, D[m], false) = [MTH(D[m])]: the verifier cannot know this subtree.
    head = [] if whole_old_tree else [(offset, offset + n)]
    return [_range_hash(read, b, e, hasher, nodes) for b, e in head + ranges[::-1]]


# --- verifying from hashes alone --------------------------------------------------------


def _check_hash(value: bytes, what: str, hasher: TreeHasher) -> None:
    if not isinstance(value, bytes) or len(value) != hasher.digest_size:
        length = len(value) if isinstance(value, bytes) else type(value).__name__
        raise InvalidProofError(
            f"{what} must be a {hasher.digest_size}-byte {hasher.name} hash, got {length}"
        )


def _check_proof(proof: Sequence[bytes], expected: int, what: str, hasher: TreeHasher) -> None:
    if len(proof) != expected:
        raise InvalidProofError(f"{what} has {len(proof)} hashes where {expected} are needed")
    for position, value in enumerate(proof):
        _check_hash(value, f"hash {position} of the {what}", hasher)


def root_from_inclusion_proof(
    leaf_hash: bytes,
    index: int,
    size: int,
    proof: Sequence[bytes],
    *,
    hasher: TreeHasher = DEFAULT_HASHER,
) -> bytes:
    """The root an audit path leads to, by RFC 9162 §2.1.3.2; the caller compares it.

    Raises :class:`InvalidProofError` if the index, the size or the proof's
    shape is impossible (the proof length is fixed by ``index`` and ``size``).
    """
    if not 0 <= index < size:
        raise InvalidProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hash(leaf_hash, "leaf hash", hasher)
    _check_proof(proof, _inclusion_length(index, size), "inclusion proof", hasher)
    fn, sn = index, size - 1
    result = leaf_hash
    for sibling in proof:
        if sn == 0:
            raise InvalidProofError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            result = hasher.hash_children(sibling, result)
            # On the right edge the subtree has no right sibling: climb past those levels.
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            result = hasher.hash_children(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProofError("inclusion proof is shorter than the path to the root")
    return result


def verify_inclusion(
    leaf_hash: bytes,
    index: int,
    size: int,
    proof: Sequence[bytes],
    root: bytes,
    *,
    hasher: TreeHasher = DEFAULT_HASHER,
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``.

    Returns nothing; raises :class:`InvalidProofError` naming the failed check.
    Hashes alone bind ``size`` only as far as the path's shape shows it (leaf 0
    takes the same turns in trees of 3 and 4 leaves), so ``root`` and ``size``
    must come together from a verified checkpoint.
    """
    _check_hash(root, "root hash", hasher)
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof, hasher=hasher)
    if computed != root:
        raise InvalidProofError(
            f"inclusion proof for leaf {index} of {size} does not lead to the root hash"
        )


def verify_consistency(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
    *,
    hasher: TreeHasher = DEFAULT_HASHER,
) -> None:
    """Check that the tree ``(new_size, new_root)`` extends ``(old_size, old_root)``.

    RFC 9162 §2.1.4.2 for ``0 < old_size < new_size``. For the cases it leaves
    out, the proof must be empty and: equal sizes need equal roots (two roots
    for one size mean the log forked); size 0 needs the empty-tree root. The
    reference implementation (transparency-dev/merkle) accepts any old root
    for size 0; a wrong one is refused here because it can only be a mistake.
    Raises :class:`InvalidProofError` naming the failed check.
    """
    _check_hash(old_root, "old root hash", hasher)
    _check_hash(new_root, "new root hash", hasher)
    if not 0 <= old_size <= new_size:
        raise InvalidProofError(f"tree size went from {old_size} to {new_size}: a log only grows")
    if old_size in (0, new_size):
        if proof:
            raise InvalidProofError(
                f"consistency proof from size {old_size} to {new_size} must be empty"
            )
        if old_size == 0 and old_root != hasher.empty_root():
            raise InvalidProofError("old root hash is not the root of the empty tree")
        if old_size == new_size and old_root != new_root:
            raise InvalidProofError(f"two different root hashes for tree size {old_size}")
        return
    _check_proof(proof, _consistency_length(old_size, new_size), "consistency proof", hasher)

    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old_result = new_result = path[0]
    for value in path[1:]:
        if sn == 0:
            raise InvalidProofError("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            old_result = hasher.hash_children(value, old_result)
            new_result = hasher.hash_children(value, new_result)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            new_result = hasher.hash_children(new_result, value)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProofError("consistency proof is shorter than the path to the root")
    if old_result != old_root:
        raise InvalidProofError(
            f"consistency proof from size {old_size} does not lead to the old root hash"
        )
    if new_result != new_root:
        raise InvalidProofError(
            f"consistency proof to size {new_size} does not lead to the new root hash"
        )


# --- the writer's compact state ---------------------------------------------------------


class Frontier:
    """The right edge of the tree: one hash per set bit of the size, largest subtree first.

    This is all a writer must keep to append and to sign each new root: an
    append merges at most log2(n) subtrees, and the root folds at most log2(n)
    hashes. Persist :attr:`size` and :attr:`hashes` with each tree head and
    :meth:`restore` them after a restart; store the :class:`Node` values that
    :meth:`append` returns if proofs should be O(log n) (see :data:`NodeLookup`).

    >>> frontier = Frontier(hasher=SHA256_HASHER)
    >>> leaves = [SHA256_HASHER.hash_leaf(bytes([i])) for i in range(7)]
    >>> frontier.extend(leaves)
    >>> frontier.size, len(frontier.hashes)
    (7, 3)
    >>> frontier.root() == tree_root(leaves, hasher=SHA256_HASHER)
    True
    >>> [(node.level, node.index) for node in frontier.append(leaves[0])]
    [(0, 7), (1, 3), (2, 1), (3, 0)]
    """

    __slots__ = ("_hasher", "_hashes", "_size")

    def __init__(self, *, hasher: TreeHasher = DEFAULT_HASHER) -> None:
        self._hasher = hasher
        self._hashes: list[bytes] = []
        self._size = 0

    @classmethod
    def restore(
        cls, size: int, hashes: Iterable[bytes], *, hasher: TreeHasher = DEFAULT_HASHER
    ) -> Frontier:
        """A frontier from a stored size and its right-edge hashes (largest subtree first)."""
        hashes = list(hashes)
        if size < 0 or len(hashes) != size.bit_count():
            raise ValueError(
                f"a tree of size {size} has {max(size, 0).bit_count()} frontier hashes, "
                f"got {len(hashes)}"
            )
        for value in hashes:
            _check_digest(value, hasher)
        frontier = cls(hasher=hasher)
        frontier._hashes = hashes
        frontier._size = size
        return frontier

    def copy(self) -> Frontier:
        """An independent frontier at the same point (appending to it leaves this one)."""
        return Frontier.restore(self._size, self._hashes, hasher=self._hasher)

    @staticmethod
    def positions(size: int) -> list[tuple[int, int]]:
        """``(level, index)`` of the frontier's subtrees, to read them from a node store."""
        found: list[tuple[int, int]] = []
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                found.append((level, (size >> level) - 1))
        return found

    @property
    def size(self) -> int:
        """Number of leaves appended."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The right-edge subtree hashes, largest (leftmost) first."""
        return tuple(self._hashes)

    @property
    def hasher(self) -> TreeHasher:
        """The tree's hash."""
        return self._hasher

    def append(self, leaf_hash: bytes) -> list[Node]:
        """Add one leaf; return every perfect subtree this completes, the leaf itself first."""
        _check_digest(leaf_hash, self._hasher)
        index = self._size
        completed = [Node(0, index, leaf_hash)]
        value, size, level = leaf_hash, index, 0
        while size & 1:
            value = self._hasher.hash_children(self._hashes.pop(), value)
            size >>= 1
            level += 1
            completed.append(Node(level, index >> level, value))
        self._hashes.append(value)
        self._size = index + 1
        return completed

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Add many leaves (the fast path: no :class:`Node` records are built)."""
        hash_children = self._hasher.hash_children
        hashes = self._hashes
        size = self._size
        for leaf_hash in leaf_hashes:
            _check_digest(leaf_hash, self._hasher)
            value, merges = leaf_hash, size
            while merges & 1:
                value = hash_children(hashes.pop(), value)
                merges >>= 1
            hashes.append(value)
            size += 1
            self._size = size

    def root(self) -> bytes:
        """The root hash of the tree appended so far."""
        if not self._hashes:
            return self._hasher.empty_root()
        value = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            value = self._hasher.hash_children(left, value)
        return value

    def __repr__(self) -> str:
        return f"Frontier(size={self._size}, hasher={self._hasher.name})"


def _check_digest(value: bytes, hasher: TreeHasher) -> None:
    if not isinstance(value, bytes) or len(value) != hasher.digest_size:
        raise ValueError(f"expected a {hasher.digest_size}-byte {hasher.name} hash")
