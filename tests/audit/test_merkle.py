"""Merkle trees against the published RFC 6962 vectors, a reference built from the RFC's text,
and properties over random trees (SHA-256 and SM3)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hukou.audit import (
    DEFAULT_HASHER,
    SHA256_HASHER,
    SM3_HASHER,
    Frontier,
    InvalidProofError,
    Node,
    TreeHasher,
    consistency_proof,
    inclusion_proof,
    root_from_inclusion_proof,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from hukou.security.sm import sm3

H = SHA256_HASHER


def dh(text: str) -> bytes:
    return bytes.fromhex(text)


# --- published vectors ------------------------------------------------------------------
# The RFC 6962 reference tree of Google's certificate-transparency and
# transparency-dev/merkle. Sources, copied verbatim (hex):
#   transparency-dev/merkle testonly/constants.go (LeafInputs, NodeHashes, RootHashes,
#     CompactTrees, EmptyRootHash)
#   transparency-dev/merkle proof/verify_test.go (inclusionProofs, consistencyProofs, roots)
#   transparency-dev/merkle testonly/reference_test.go (TestRefInclusionProof,
#     TestRefConsistencyProof)
#   transparency-dev/merkle rfc6962/rfc6962_test.go (TestRFC6962Hasher)
#   google/certificate-transparency-go merkletree/merkle_verifier_test.go (same tree)

LEAF_INPUTS = [
    dh(""),
    dh("00"),
    dh("10"),
    dh("2021"),
    dh("3031"),
    dh("40414243"),
    dh("5051525354555657"),
    dh("606162636465666768696a6b6c6d6e6f"),
]

EMPTY_ROOT = dh("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

# RootHashes()[1:], i.e. the roots for tree sizes 1..8.
ROOTS = [
    dh("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    dh("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    dh("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    dh("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    dh("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    dh("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    dh("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    dh("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

# NodeHashes(): [level][index] of every complete subtree of the 8-leaf tree.
NODE_HASHES = [
    [
        dh("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        dh("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        dh("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        dh("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        dh("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        dh("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        dh("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        dh("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        dh("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        dh("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        dh("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        dh("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        dh("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        dh("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [dh("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")],
]

# CompactTrees(): the frontier (right-edge subtree hashes, largest first) for sizes 0..8.
NH = NODE_HASHES
COMPACT_TREES = [
    [],
    [NH[0][0]],
    [NH[1][0]],
    [NH[1][0], NH[0][2]],
    [NH[2][0]],
    [NH[2][0], NH[0][4]],
    [NH[2][0], NH[1][2]],
    [NH[2][0], NH[1][2], NH[0][6]],
    [NH[3][0]],
]

# (0-based leaf index, tree size, proof). verify_test.go numbers leaves from 1
# ({1, 8, ...} is leaf 0): converted here. The last four are TestRefInclusionProof's.
INCLUSION_PROOFS = [
    (0, 1, []),
    (
        0,
        8,
        [
            dh("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            dh("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            dh("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            dh("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            dh("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            dh("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (2, 3, [dh("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        1,
        5,
        [
            dh("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            dh("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            dh("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    # testonly/reference_test.go TestRefInclusionProof
    (0, 2, [dh("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7")]),
    (1, 2, [dh("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")]),
]

# (old size, new size, proof): verify_test.go consistencyProofs
# (TestRefConsistencyProof's four, and {6, 7}).
CONSISTENCY_PROOFS = [
    (1, 1, []),
    (
        1,
        8,
        [
            dh("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            dh("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            dh("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            dh("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            dh("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            dh("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            dh("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            dh("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            dh("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            dh("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            dh("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]

# proof/verify_test.go: sha256SomeHash, a well-formed hash that is in no tree.
SOME_HASH = dh("abacaba000000000000000000000000000000000000000000060061e00123456")

LEAVES = [H.hash_leaf(data) for data in LEAF_INPUTS]


def root_at(size: int) -> bytes:
    return EMPTY_ROOT if size == 0 else ROOTS[size - 1]


def test_hasher_vectors_rfc6962_test_go() -> None:
    assert H.empty_root() == EMPTY_ROOT
    assert H.hash_leaf(b"") == NODE_HASHES[0][0]
    leaf = dh("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")
    assert H.hash_leaf(b"L123456") == leaf
    node = dh("aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb")
    assert H.hash_children(b"N123", b"N456") == node


def test_leaf_and_node_hashes_are_the_published_ones() -> None:
    assert NODE_HASHES[0] == LEAVES
    for level in range(1, 4):
        for index, expected in enumerate(NODE_HASHES[level]):
            width = 1 << level
            assert tree_root(LEAVES[index * width : (index + 1) * width], hasher=H) == expected


@pytest.mark.parametrize("size", range(9))
def test_roots_for_every_size(size: int) -> None:
    assert tree_root(LEAVES, size, hasher=H) == root_at(size)
    assert tree_root(LEAVES[:size], hasher=H) == root_at(size)
    assert tree_root(LEAVES.__getitem__, size, hasher=H) == root_at(size)


def test_size_8_root_is_the_famous_one() -> None:
    root = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    assert tree_root(LEAVES, hasher=H).hex() == root


@pytest.mark.parametrize("size", range(9))
def test_frontier_matches_compact_trees(size: int) -> None:
    frontier = Frontier(hasher=H)
    frontier.extend(LEAVES[:size])
    assert list(frontier.hashes) == COMPACT_TREES[size]
    assert frontier.root() == root_at(size)
    stored = [NODE_HASHES[level][index] for level, index in Frontier.positions(size)]
    assert stored == COMPACT_TREES[size]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS)
def test_published_inclusion_proofs(index: int, size: int, proof: list[bytes]) -> None:
    assert inclusion_proof(LEAVES, index, size, hasher=H) == proof
    assert root_from_inclusion_proof(LEAVES[index], index, size, proof, hasher=H) == ROOTS[size - 1]
    verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size - 1], hasher=H)


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_PROOFS)
def test_published_consistency_proofs(old: int, new: int, proof: list[bytes]) -> None:
    assert consistency_proof(LEAVES, old, new, hasher=H) == proof
    verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof, hasher=H)


def inclusion_refused(
    leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes, hasher: TreeHasher = H
) -> bool:
    try:
        verify_inclusion(leaf, index, size, proof, root, hasher=hasher)
    except InvalidProofError:
        return True
    return False


def consistency_refused(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes], hasher: TreeHasher = H
) -> bool:
    try:
        verify_consistency(old, new, old_root, new_root, proof, hasher=hasher)
    except InvalidProofError:
        return True
    return False


def inclusion_probes(
    index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes
) -> list[tuple[str, int, int, list[bytes], bytes, bytes]]:
    """corruptInclusionProof of proof/verify_test.go: each probe must be refused."""
    probes = [
        ("leafIndex - 1", index - 1, size, proof, root, leaf),
        ("leafIndex + 1", index + 1, size, proof, root, leaf),
        ("leafIndex ^ 2", index ^ 2, size, proof, root, leaf),
        ("treeSize * 2", index, size * 2, proof, root, leaf),
        ("treeSize / 2", index, size // 2, proof, root, leaf),
        ("wrong leaf", index, size, proof, root, b"WrongLeaf"),
        ("empty root", index, size, proof, EMPTY_ROOT, leaf),
        ("random root", index, size, proof, SOME_HASH, leaf),
        ("trailing garbage", index, size, [*proof, b""], root, leaf),
        ("trailing root", index, size, [*proof, root], root, leaf),
        ("preceding garbage", index, size, [b"", *proof], root, leaf),
        ("preceding root", index, size, [root, *proof], root, leaf),
    ]
    for position in range(len(proof)):
        wrong = list(proof)
        wrong[position] = bytes([wrong[position][0] ^ 8]) + wrong[position][1:]
        probes.append((f"modified proof[{position}] bit 3", index, size, wrong, root, leaf))
    if proof:
        probes.append(("removed component", index, size, proof[:-1], root, leaf))
    if len(proof) > 1:
        inserted = [proof[0], SOME_HASH, *proof[1:]]
        probes.append(("inserted component", index, size, inserted, root, leaf))
    return probes


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS)
def test_corrupted_published_inclusion_proofs_are_refused(
    index: int, size: int, proof: list[bytes]
) -> None:
    for name, i, n, p, root, leaf in inclusion_probes(
        index, size, proof, ROOTS[size - 1], LEAVES[index]
    ):
        assert inclusion_refused(leaf, i, n, p, root), name


def consistency_probes(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    """corruptConsistencyProof of proof/verify_test.go: each probe must be refused."""
    probes = [
        ("size1 - 1", old - 1, new, old_root, new_root, proof),
        ("size1 + 1", old + 1, new, old_root, new_root, proof),
        ("size1 ^ 2", old ^ 2, new, old_root, new_root, proof),
        ("size2 * 2", old, new * 2, old_root, new_root, proof),
        ("size2 / 2", old, new // 2, old_root, new_root, proof),
        ("wrong root1", old, new, b"WrongRoot", new_root, proof),
        ("wrong root2", old, new, old_root, b"WrongRoot", proof),
        ("swapped roots", old, new, new_root, old_root, proof),
        ("empty proof", old, new, old_root, new_root, []),
        ("trailing garbage", old, new, old_root, new_root, [*proof, b""]),
        ("trailing root1", old, new, old_root, new_root, [*proof, old_root]),
        ("trailing root2", old, new, old_root, new_root, [*proof, new_root]),
        ("preceding garbage", old, new, old_root, new_root, [b"", *proof]),
        ("preceding root1", old, new, old_root, new_root, [old_root, *proof]),
        ("preceding root2", old, new, old_root, new_root, [new_root, *proof]),
        ("preceding proof[0]", old, new, old_root, new_root, [proof[0], *proof]),
        ("truncated proof", old, new, old_root, new_root, proof[:-1]),
    ]
    for position in range(len(proof)):
        wrong = list(proof)
        wrong[position] = bytes([wrong[position][0] ^ 16]) + wrong[position][1:]
        probes.append((f"modified proof[{position}] bit 4", old, new, old_root, new_root, wrong))
    return probes


@pytest.mark.parametrize(("old", "new", "proof"), [p for p in CONSISTENCY_PROOFS if p[2]])
def test_corrupted_published_consistency_proofs_are_refused(
    old: int, new: int, proof: list[bytes]
) -> None:
    for name, m, n, r1, r2, p in consistency_probes(
        old, new, ROOTS[old - 1], ROOTS[new - 1], proof
    ):
        assert consistency_refused(m, n, r1, r2, p), name


def test_single_entry_tree_verify_test_go() -> None:
    # TestVerifyInclusionSingleEntry: the root of a 1-leaf tree is its leaf hash.
    leaf = H.hash_leaf(b"data")
    verify_inclusion(leaf, 0, 1, [], leaf, hasher=H)
    for root, leaf_hash in [(leaf, b""), (b"", leaf), (b"", b"")]:
        with pytest.raises(InvalidProofError):
            verify_inclusion(leaf_hash, 0, 1, [], root, hasher=H)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_impossible_inclusion_probes_verify_test_go(index: int, size: int) -> None:
    # TestVerifyInclusion's invalid paths: (0, 1) fails only on the root.
    for leaf, root in [(SOME_HASH, b""), (b"", EMPTY_ROOT), (SOME_HASH, EMPTY_ROOT)]:
        with pytest.raises(InvalidProofError):
            verify_inclusion(leaf, index, size, [], root, hasher=H)


R1, R2 = ROOTS[0], ROOTS[1]


@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root", "proof", "ok"),
    [
        # TestVerifyConsistency of proof/verify_test.go, with real hashes where it
        # used 12-byte "don't care" roots (refused here for their size).
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [], True),
        (0, 1, EMPTY_ROOT, R1, [], True),
        (1, 1, R2, R2, [], True),
        (1, 1, R1, R2, [], False),  # same size, two roots: a fork
        (1, 0, R1, R2, [], False),  # time travel
        (2, 1, R1, R2, [], False),
        (1, 2, R1, R2, [], False),  # empty proof
        (0, 0, EMPTY_ROOT, R2, [], False),
        (1, 1, EMPTY_ROOT, R2, [], False),
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),  # roots match, proof not empty
        (0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        # Stricter than the reference: size 0 must come with the empty-tree root.
        (0, 1, SOME_HASH, R1, [], False),
        (0, 0, SOME_HASH, SOME_HASH, [], False),
    ],
)
def test_consistency_edge_cases(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes], ok: bool
) -> None:
    if ok:
        verify_consistency(old, new, old_root, new_root, proof, hasher=H)
    else:
        with pytest.raises(InvalidProofError):
            verify_consistency(old, new, old_root, new_root, proof, hasher=H)


# draft-ietf-plants-merkle-tree-certs-05 Appendix C (accumulated vectors), as
# reproduced by transparency-dev/merkle testonly/vectors_test.go: leaf i is the byte i,
# every valid subtree [start, end) up to 130 leaves, one line each into a SHA-256.


def valid_subtree(start: int, end: int) -> bool:
    """isSubtreeValid of transparency-dev/merkle testonly/tree.go (start < end)."""
    if start == 0:
        return True
    ceiling = 1 << (end - start - 1).bit_length()
    return start & (ceiling - 1) == 0


DRAFT_LEAVES = [H.hash_leaf(bytes([i])) for i in range(130)]
VALID_SUBTREES = [(s, e) for e in range(1, 131) for s in range(e) if valid_subtree(s, e)]


def test_draft_subtree_hashes_c1() -> None:
    digest = hashlib.sha256()
    for start, end in VALID_SUBTREES:
        subtree = tree_root(DRAFT_LEAVES[start:end], hasher=H)
        digest.update(f"[{start}, {end}) {subtree.hex()}\n".encode())
    assert digest.hexdigest() == "94a95384a8c69acea9b50d035a58285b3a777cb7a724005faa5e1f1e1190007f"


def test_draft_subtree_inclusion_proofs_c2() -> None:
    digest = hashlib.sha256()
    for start, end in VALID_SUBTREES:
        subtree = DRAFT_LEAVES[start:end]
        for index in range(start, end):
            proof = inclusion_proof(subtree, index - start, hasher=H)
            hashes = "".join(f" {value.hex()}" for value in proof)
            digest.update(f"{index} [{start}, {end}){hashes}\n".encode())
    assert digest.hexdigest() == "ac2a8f989e44d99e399db448050ff5f19757df53cfb716aa81015d3955d8163f"


# --- SM3 --------------------------------------------------------------------------------


def sm3_leaf(data: bytes) -> bytes:
    return sm3(b"\x00" + data)


def sm3_node(left: bytes, right: bytes) -> bytes:
    return sm3(b"\x01" + left + right)


# Computed once from the definition (below, by hand, with hukou.security.sm.sm3) and
# pinned, so that a change of hash, prefix or split cannot pass unnoticed.
SM3_ROOT_8 = "bc48ba7a709184b5f2a631e1adeb8dc2a0d4c018c1d6cc89b5664fe154c93b38"
SM3_EMPTY_ROOT = "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"


def test_sm3_root_of_the_reference_tree_from_the_definition() -> None:
    a, b, c, d, e, f, g, h = (sm3_leaf(data) for data in LEAF_INPUTS)
    by_hand = sm3_node(
        sm3_node(sm3_node(a, b), sm3_node(c, d)),
        sm3_node(sm3_node(e, f), sm3_node(g, h)),
    )
    assert by_hand.hex() == SM3_ROOT_8
    leaves = [SM3_HASHER.hash_leaf(data) for data in LEAF_INPUTS]
    assert tree_root(leaves).hex() == SM3_ROOT_8
    assert DEFAULT_HASHER is SM3_HASHER
    # Size 7 splits 4 + 3 and the 3 splits 2 + 1 (RFC 6962 §2.1).
    size_7 = sm3_node(sm3_node(sm3_node(a, b), sm3_node(c, d)), sm3_node(sm3_node(e, f), g))
    assert tree_root(leaves, 7) == size_7


def test_sm3_empty_root() -> None:
    assert SM3_HASHER.empty_root().hex() == SM3_EMPTY_ROOT
    assert tree_root([]).hex() == SM3_EMPTY_ROOT


def test_sm3_proofs_of_the_reference_tree() -> None:
    leaves = [SM3_HASHER.hash_leaf(data) for data in LEAF_INPUTS]
    a, b, c, d, e, f, g, h = leaves
    # The shape is SHA-256's: leaf 5 of 8 needs e, (g h), (a b c d).
    expected = [e, sm3_node(g, h), sm3_node(sm3_node(a, b), sm3_node(c, d))]
    assert inclusion_proof(leaves, 5) == expected
    verify_inclusion(f, 5, 8, expected, bytes.fromhex(SM3_ROOT_8))
    with pytest.raises(InvalidProofError):  # an SM3 proof is no SHA-256 proof
        verify_inclusion(f, 5, 8, expected, bytes.fromhex(SM3_ROOT_8), hasher=H)
    for old, new, _ in CONSISTENCY_PROOFS:
        proof = consistency_proof(leaves, old, new)
        verify_consistency(old, new, tree_root(leaves, old), tree_root(leaves, new), proof)


# --- a reference straight from the RFC 6962 text (recursive; small trees only) --------


def ref_mth(leaves: Sequence[bytes], hasher: TreeHasher) -> bytes:
    n = len(leaves)
    if n == 0:
        return hasher.empty_root()
    if n == 1:
        return leaves[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return hasher.hash_children(ref_mth(leaves[:k], hasher), ref_mth(leaves[k:], hasher))


def ref_path(m: int, leaves: Sequence[bytes], hasher: TreeHasher) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*ref_path(m, leaves[:k], hasher), ref_mth(leaves[k:], hasher)]
    return [*ref_path(m - k, leaves[k:], hasher), ref_mth(leaves[:k], hasher)]


def ref_subproof(m: int, leaves: Sequence[bytes], b: bool, hasher: TreeHasher) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [ref_mth(leaves, hasher)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*ref_subproof(m, leaves[:k], b, hasher), ref_mth(leaves[k:], hasher)]
    return [*ref_subproof(m - k, leaves[k:], False, hasher), ref_mth(leaves[:k], hasher)]


def sha_leaves(n: int) -> list[bytes]:
    return [H.hash_leaf(i.to_bytes(4, "big")) for i in range(n)]


def test_everything_matches_the_rfc_text_up_to_70_leaves() -> None:
    for n in range(71):
        leaves = sha_leaves(n)
        assert tree_root(leaves, hasher=H) == ref_mth(leaves, H)
        for m in range(n):
            assert inclusion_proof(leaves, m, hasher=H) == ref_path(m, leaves, H)
        for m in range(1, n):
            assert consistency_proof(leaves, m, hasher=H) == ref_subproof(m, leaves, True, H)


def test_no_wrong_index_verifies_up_to_40_leaves() -> None:
    for n in range(1, 41):
        leaves = sha_leaves(n)
        root = tree_root(leaves, hasher=H)
        for m in range(n):
            proof = inclusion_proof(leaves, m, hasher=H)
            for other in range(-1, n + 1):
                if other != m:
                    assert inclusion_refused(leaves[m], other, n, proof, root)


# --- properties over random trees -------------------------------------------------------


def stored_tree(n: int, hasher: TreeHasher) -> tuple[list[bytes], dict[tuple[int, int], bytes]]:
    """Leaf hashes and every perfect subtree a writer would store while appending them."""
    leaves = [hasher.hash_leaf(b"entry %d" % i) for i in range(n)]
    frontier = Frontier(hasher=hasher)
    nodes: dict[tuple[int, int], bytes] = {}
    for leaf in leaves:
        for node in frontier.append(leaf):
            nodes[node.key] = node.hash
    return leaves, nodes


def flip(value: bytes, position: int) -> bytes:
    position %= len(value)
    return value[:position] + bytes([value[position] ^ 0x01]) + value[position + 1 :]


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 300), position=st.integers(0, 31), other=st.integers(0, 299))
@example(n=300, position=31, other=299)
@example(n=256, position=0, other=255)
@example(n=257, position=5, other=256)
def test_inclusion_proofs_verify_and_tampering_is_refused(
    n: int, position: int, other: int
) -> None:
    leaves, nodes = stored_tree(n, H)
    root = tree_root(leaves, hasher=H, nodes=nodes.get)
    for m in range(n):
        proof = inclusion_proof(leaves, m, hasher=H, nodes=nodes.get)
        leaf = leaves[m]
        verify_inclusion(leaf, m, n, proof, root, hasher=H)
        assert inclusion_refused(flip(leaf, position), m, n, proof, root)
        assert inclusion_refused(leaf, m, n, proof, flip(root, position))
        for k in range(len(proof)):
            bad = [*proof[:k], flip(proof[k], position), *proof[k + 1 :]]
            assert inclusion_refused(leaf, m, n, bad, root)
        for wrong in {m - 1, m + 1, m ^ 2, other % n} - {m}:
            assert inclusion_refused(leaf, wrong, n, proof, root)
        # Sizes as verify_test.go probes them. (Not n + 1: leaf 0 of 3 and of 4 take the
        # same left turns, so hashes alone cannot tell the sizes apart; the signed
        # checkpoint binds the size to the root.)
        assert inclusion_refused(leaf, m, n * 2, proof, root)
        assert inclusion_refused(leaf, m, n // 2, proof, root)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 300), position=st.integers(0, 31))
@example(n=300, position=31)
@example(n=256, position=0)
@example(n=257, position=5)
def test_consistency_proofs_verify_and_tampering_is_refused(n: int, position: int) -> None:
    leaves, nodes = stored_tree(n, H)
    new_root = tree_root(leaves, hasher=H, nodes=nodes.get)
    for m in range(n + 1):
        old_root = tree_root(leaves, m, hasher=H, nodes=nodes.get)
        proof = consistency_proof(leaves, m, hasher=H, nodes=nodes.get)
        verify_consistency(m, n, old_root, new_root, proof, hasher=H)
        if m in (0, n):
            assert proof == []
            continue
        assert consistency_refused(m, n, flip(old_root, position), new_root, proof)
        assert consistency_refused(m, n, old_root, flip(new_root, position), proof)
        assert consistency_refused(m, n, new_root, old_root, proof)
        for k in range(len(proof)):
            bad = [*proof[:k], flip(proof[k], position), *proof[k + 1 :]]
            assert consistency_refused(m, n, old_root, new_root, bad)
        for size in {m - 1, m + 1} - {0, n}:
            assert consistency_refused(size, n, old_root, new_root, proof)
        assert consistency_refused(m, n, old_root, new_root, proof[:-1])
        assert consistency_refused(m, n, old_root, new_root, [*proof, new_root])


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 64))
def test_sm3_trees_have_the_same_shape(n: int) -> None:
    leaves, nodes = stored_tree(n, SM3_HASHER)
    root = tree_root(leaves)
    assert root == ref_mth(leaves, SM3_HASHER)
    assert root == tree_root(leaves, nodes=nodes.get)
    sha_root = tree_root([H.hash_leaf(b"entry %d" % i) for i in range(n)], hasher=H)
    assert root != sha_root
    for m in range(n):
        proof = inclusion_proof(leaves, m)
        assert len(proof) == len(ref_path(m, leaves, SM3_HASHER))
        verify_inclusion(leaves[m], m, n, proof, root)
    for m in range(n + 1):
        proof = consistency_proof(leaves, m, nodes=nodes.get)
        verify_consistency(m, n, tree_root(leaves, m), root, proof)


# --- the writer's frontier --------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(n=st.integers(0, 600))
def test_frontier_agrees_with_the_full_computation_after_every_append(n: int) -> None:
    leaves = sha_leaves(n)
    frontier = Frontier(hasher=H)
    for size, leaf in enumerate(leaves, start=1):
        frontier.append(leaf)
        assert frontier.size == size
        assert len(frontier.hashes) == size.bit_count()
        if size % 37 == 0 or size == n:
            assert frontier.root() == tree_root(leaves, size, hasher=H)
    assert frontier.root() == tree_root(leaves, hasher=H)
    restored = Frontier.restore(frontier.size, frontier.hashes, hasher=H)
    restored.append(H.hash_leaf(b"next"))
    assert restored.root() == tree_root([*leaves, H.hash_leaf(b"next")], hasher=H)


def test_frontier_reports_every_completed_subtree() -> None:
    leaves, nodes = stored_tree(8, H)
    assert len(nodes) == 15  # 8 leaves, 4 pairs, 2 quads, 1 root
    for level, row in enumerate(NODE_HASHES):
        for index in range(len(row)):
            width = 1 << level
            span = leaves[index * width : (index + 1) * width]
            assert nodes[level, index] == tree_root(span, hasher=H)
    assert Frontier(hasher=H).append(LEAVES[0]) == [Node(0, 0, LEAVES[0])]


def test_frontier_positions_name_the_stored_nodes() -> None:
    assert Frontier.positions(0) == []
    assert Frontier.positions(7) == [(2, 0), (1, 2), (0, 6)]
    assert Frontier.positions(8) == [(3, 0)]
    leaves, nodes = stored_tree(1000, H)
    hashes = [nodes[position] for position in Frontier.positions(1000)]
    assert Frontier.restore(1000, hashes, hasher=H).root() == tree_root(leaves, hasher=H)


def test_frontier_refuses_bad_input() -> None:
    frontier = Frontier(hasher=H)
    with pytest.raises(ValueError, match="32-byte SHA-256"):
        frontier.append(b"short")
    with pytest.raises(ValueError, match="32-byte SHA-256"):
        frontier.extend([LEAVES[0], b"short"])
    assert frontier.size == 1  # the good leaf before the bad one stays
    with pytest.raises(ValueError, match="has 2 frontier hashes"):
        Frontier.restore(3, [LEAVES[0]], hasher=H)
    assert "SM3" in repr(Frontier())


# --- scale and stored nodes -------------------------------------------------------------


def test_large_tree_from_a_leaf_function() -> None:
    n = 100_003  # 2**16 + 2**15 + ... : a frontier of 8 subtrees

    def leaf(i: int) -> bytes:
        return H.hash_leaf(i.to_bytes(8, "big"))

    frontier = Frontier(hasher=H)
    frontier.extend(leaf(i) for i in range(n))
    root = tree_root(leaf, n, hasher=H)
    assert root == frontier.root()
    proof = inclusion_proof(leaf, 77_777, n, hasher=H)
    verify_inclusion(leaf(77_777), 77_777, n, proof, root, hasher=H)
    old_root = tree_root(leaf, 65_537, hasher=H)
    verify_consistency(
        65_537, n, old_root, root, consistency_proof(leaf, 65_537, n, hasher=H), hasher=H
    )


def test_stored_nodes_make_proofs_logarithmic() -> None:
    n = 5000
    leaves, nodes = stored_tree(n, H)
    reads: list[int] = []

    def leaf(i: int) -> bytes:
        reads.append(i)
        return leaves[i]

    lookups: list[tuple[int, int]] = []

    def lookup(key: tuple[int, int]) -> bytes | None:
        lookups.append(key)
        return nodes.get(key)

    for m in (0, 2047, 4095, 4999):
        reads.clear()
        lookups.clear()
        proof = inclusion_proof(leaf, m, n, hasher=H, nodes=lookup)
        assert proof == inclusion_proof(leaves, m, hasher=H)
        assert reads == []  # every subtree came from the store
        assert len(lookups) <= 2 * n.bit_length()
    reads.clear()
    proof = consistency_proof(leaf, 1234, n, hasher=H, nodes=lookup)
    assert proof == consistency_proof(leaves, 1234, hasher=H)
    assert reads == []
    # A store missing a node falls back to the leaves under it.
    del nodes[12, 0]
    assert tree_root(leaf, n, hasher=H, nodes=lookup) == tree_root(leaves, hasher=H)
    assert len(reads) == 4096


# --- argument checks --------------------------------------------------------------------


def test_computing_functions_refuse_impossible_arguments() -> None:
    with pytest.raises(ValueError, match="size is required"):
        tree_root(LEAVES.__getitem__)
    with pytest.raises(ValueError, match="exceeds the 8 leaf hashes"):
        tree_root(LEAVES, 9)
    with pytest.raises(ValueError, match="negative"):
        tree_root(LEAVES.__getitem__, -1)
    with pytest.raises(ValueError, match="outside a tree of size 8"):
        inclusion_proof(LEAVES, 8)
    with pytest.raises(ValueError, match="outside a tree of size 8"):
        inclusion_proof(LEAVES, -1)
    with pytest.raises(ValueError, match="no consistency proof from size 5 to size 4"):
        consistency_proof(LEAVES, 5, 4)
    assert consistency_proof(LEAVES, 0) == []
    with pytest.raises(ValueError, match="expected a 32-byte SHA-256 hash"):
        tree_root([*LEAVES[:3], b"not a hash"], hasher=H)
    with pytest.raises(ValueError, match="expected a 32-byte SHA-256 hash"):
        tree_root([*LEAVES[:4], "text"], hasher=H)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="expected a 32-byte SM3 hash"):
        inclusion_proof(LEAVES, 0, nodes=lambda key: b"stale")


def test_verifier_messages_name_the_failed_check() -> None:
    proof = inclusion_proof(LEAVES, 5, hasher=H)
    with pytest.raises(InvalidProofError, match="has 2 hashes where 3 are needed"):
        verify_inclusion(LEAVES[5], 5, 8, proof[:2], ROOTS[7], hasher=H)
    with pytest.raises(InvalidProofError, match="hash 1 of the inclusion proof must be a 32-byte"):
        verify_inclusion(LEAVES[5], 5, 8, [proof[0], b"x", proof[2]], ROOTS[7], hasher=H)
    with pytest.raises(InvalidProofError, match="root hash must be a 32-byte SHA-256 hash, got 4"):
        verify_inclusion(LEAVES[5], 5, 8, proof, b"root", hasher=H)
    with pytest.raises(
        InvalidProofError, match="leaf hash must be a 32-byte SHA-256 hash, got str"
    ):
        verify_inclusion("leaf", 5, 8, proof, ROOTS[7], hasher=H)  # type: ignore[arg-type]
    with pytest.raises(InvalidProofError, match="does not lead to the root hash"):
        verify_inclusion(LEAVES[4], 5, 8, proof, ROOTS[7], hasher=H)
    consistency = consistency_proof(LEAVES, 6, 8, hasher=H)
    with pytest.raises(InvalidProofError, match="a log only grows"):
        verify_consistency(8, 6, ROOTS[7], ROOTS[5], consistency, hasher=H)
    with pytest.raises(InvalidProofError, match="does not lead to the old root hash"):
        verify_consistency(6, 8, ROOTS[4], ROOTS[7], consistency, hasher=H)
    with pytest.raises(InvalidProofError, match="does not lead to the new root hash"):
        verify_consistency(6, 8, ROOTS[5], ROOTS[6], consistency, hasher=H)
    with pytest.raises(InvalidProofError, match="two different root hashes for tree size 8"):
        verify_consistency(8, 8, ROOTS[7], SOME_HASH, [], hasher=H)
    assert issubclass(InvalidProofError, ValueError)
