"""RFC 9162 §2.1 Merkle tree (the Certificate Transparency v2 tree): hashes, proofs, verification.

Hashing (§2.1.1): a leaf hashes as SHA-256(0x00 || leaf), an interior node as
SHA-256(0x01 || left || right), the empty tree as SHA-256(""). The tree of n
leaves splits at the largest power of two k < n: MTH(D[n]) =
hash_children(MTH(D[0:k]), MTH(D[k:n])).

Storage. The log never recomputes: it keeps the hashes of the tree's *perfect*
subtrees only. Node (level, index) is the root of the perfect subtree over the
leaves [index * 2**level, (index + 1) * 2**level); level 0 is the leaf hash
itself. Appending leaf n stores (0, n) and then, while the new node is a right
child, its parent: 1 + (trailing one bits of n) nodes, reading that many minus
one existing nodes (amortised two writes per leaf, never more than log2 n + 1).
Every other hash the tree needs (the root, or the root of a subtree along the
right border that is not perfect yet) is the right fold of at most log2 n
stored perfect parts, so `root`, `inclusion_proof` and `consistency_proof` each
read O(log n) stored nodes through the `node(level, index)` callable.

Verification (`verify_inclusion`, `verify_consistency`) follows RFC 9162
§2.1.3.2 and §2.1.4.2 step by step, after refusing every malformed input
outright with a `ProofError` (a `ValueError`) saying what is wrong: an index or
sizes that cannot be, a proof with a node that is not 32 bytes, a proof that is
not exactly as long as the sizes require (a proof is consumed exactly), or a
root that does not match. A consistency proof from the empty tree (size1 = 0)
is refused as meaningless, as RFC 9162 defines them for 0 < size1 only (and as
transparency-dev/merkle does). Roots are compared as given, byte for byte.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeReader = Callable[[int, int], bytes]
"""Reads the stored hash of perfect-subtree node (level, index); raises (KeyError, say) if it is not stored."""

NewNode = tuple[int, int, bytes]
"""A node to store: (level, index, hash)."""


class ProofError(ValueError):
    """A proof, or the claim it is checked against, is refused."""


class TreeSizeError(ProofError):
    """The index or tree sizes cannot be (index beyond the tree, a tree that shrinks, the empty tree)."""


class HashSizeError(ProofError):
    """A leaf hash or proof node is not a SHA-256 hash (32 bytes)."""


class ProofLengthError(ProofError):
    """The proof has more or fewer nodes than the index and sizes require."""


class RootMismatchError(ProofError):
    """The proof is well formed but does not lead to the expected root."""


# --- hashing (RFC 9162 §2.1.1) ---------------------------------------------------------------------------------------


def hash_leaf(leaf: bytes) -> bytes:
    """The leaf hash: SHA-256(0x00 || leaf)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """The interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split_point(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) straight from the definition, given the leaf hashes. For tests and small trees."""
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[0]
    k = _split_point(n)
    return hash_children(root_from_leaf_hashes(hashes[:k]), root_from_leaf_hashes(hashes[k:]))


# --- the write path: storing perfect subtrees ------------------------------------------------------------------------


def _check_hash(what: str, value: bytes) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        size = f"{len(value)} bytes" if isinstance(value, bytes) else f"a {type(value).__name__}"
        raise HashSizeError(f"{what} is {size}, not a {HASH_SIZE}-byte SHA-256 hash")


def _check_size(what: str, value: int) -> None:
    if value < 0:
        raise TreeSizeError(f"{what} is {value}; it cannot be negative")


def nodes_completed_by_append(size_before: int, leaf_hash: bytes, node: NodeReader) -> list[NewNode]:
    """The nodes to store when leaf number `size_before` (0-based) is appended: the leaf itself at level 0,
    then every perfect subtree it completes, lowest first. Reads only the left siblings on the way up:
    as many stored nodes as `size_before` has trailing one bits."""
    return nodes_completed_by_appends(size_before, (leaf_hash,), node)


def nodes_completed_by_appends(size_before: int, leaf_hashes: Iterable[bytes], node: NodeReader) -> list[NewNode]:
    """The nodes to store when `leaf_hashes` are appended, in order, to a tree of `size_before` leaves: the same
    nodes, in the same order, as appending them one by one, but reading each stored node at most once: only
    the roots of the old tree's perfect subtrees are read (at most log2(size_before) + 1 of them). It keeps
    O(log n) hashes in hand, whatever the batch size.

    Each leaf walks up while it is a right child, hashing in its left sibling, without a call and a list
    per leaf (a group commit's 1,000 leaves, under the log's lock): a left child made in this batch waits
    in `waiting` under its level until its right sibling completes it (a level has at most one waiting:
    the next node of that level is its sibling); an older one is read from `node`."""
    if size_before < 0:
        raise ValueError(f"size_before is {size_before}; it cannot be negative")
    waiting: dict[int, bytes] = {}
    new: list[NewNode] = []
    append, sha256 = new.append, hashlib.sha256
    for leaf_index, leaf_hash in enumerate(leaf_hashes, size_before):
        if not isinstance(leaf_hash, bytes) or len(leaf_hash) != HASH_SIZE:
            _check_hash("leaf hash", leaf_hash)
        level, index, current = 0, leaf_index, leaf_hash
        append((0, index, current))
        while index & 1:
            left = waiting.pop(level, None)
            if left is None:  # not made in this batch: stored
                left = node(level, index - 1)
            current = sha256(b"\x01" + left + current).digest()  # hash_children(left, current)
            level, index = level + 1, index >> 1
            append((level, index, current))
        waiting[level] = current
    return new


# --- the read path: roots and proofs from stored perfect subtrees ----------------------------------------------------


def _perfect_parts(start: int, end: int) -> list[tuple[int, int]]:
    """The perfect subtrees, left to right, that make up the tree node over leaves [start, end). Such a node
    starts at a multiple of the power of two at or above its width, so its parts follow the width's bits."""
    parts = []
    while start < end:
        level = (end - start).bit_length() - 1
        parts.append((level, start >> level))
        start += 1 << level
    return parts


def _subtree_hash(start: int, end: int, node: NodeReader) -> bytes:
    """MTH(D[start:end]) for a node of the tree (perfect or on the right border), from its perfect parts."""
    parts = _perfect_parts(start, end)
    result = node(*parts[-1])
    for level, index in reversed(parts[:-1]):
        result = hash_children(node(level, index), result)
    return result


def root(size: int, node: NodeReader) -> bytes:
    """The root hash of the tree of the first `size` leaves, from at most log2(size) + 1 stored nodes."""
    if size < 0:
        raise ValueError(f"tree size is {size}; it cannot be negative")
    if size == 0:
        return EMPTY_ROOT
    return _subtree_hash(0, size, node)


def inclusion_proof(index: int, size: int, node: NodeReader) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1, lowest node first, from O(log size) stored nodes."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of {size} leaves")
    top_down = []
    start, end = 0, size
    while end - start > 1:
        k = _split_point(end - start)
        if index < start + k:
            top_down.append(_subtree_hash(start + k, end, node))
            end = start + k
        else:
            top_down.append(_subtree_hash(start, start + k, node))
            start += k
    return top_down[::-1]


def consistency_proof(size1: int, size2: int, node: NodeReader) -> list[bytes]:
    """PROOF(size1, D[size2]) of RFC 9162 §2.1.4.1 (SUBPROOF unrolled), from O(log size2) stored nodes.
    Requires 0 < size1 <= size2; the proof between equal sizes is empty."""
    if size1 <= 0 or size1 > size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}: it needs 0 < size1 <= size2")
    top_down = []
    start, end, whole_old_tree = 0, size2, True
    while end != size1:
        k = _split_point(end - start)
        if size1 - start <= k:
            top_down.append(_subtree_hash(start + k, end, node))
            end = start + k
        else:
            top_down.append(_subtree_hash(start, start + k, node))
            start += k
            whole_old_tree = False
    # SUBPROOF(m, D[m], b): nothing if the old tree is this subtree (b true), else this subtree's hash.
    base = [] if whole_old_tree else [_subtree_hash(start, end, node)]
    return base + top_down[::-1]


def node_ids_read(compute: Callable[[NodeReader], object]) -> list[tuple[int, int]]:
    """The (level, index) of every stored node that `compute` reads, in order, found by running it on stand-in
    hashes; e.g. `node_ids_read(lambda node: inclusion_proof(3, 10, node))`. A database-backed store can fetch
    them all in one query, then run the real computation on what it fetched."""
    read: list[tuple[int, int]] = []

    def record(level: int, index: int) -> bytes:
        read.append((level, index))
        return bytes(HASH_SIZE)

    compute(record)
    return read


# --- verification (RFC 9162 §2.1.3.2, §2.1.4.2) ----------------------------------------------------------------------


def _check_proof_nodes(proof: Sequence[bytes]) -> None:
    for position, value in enumerate(proof):
        _check_hash(f"proof node {position}", value)


def _inclusion_proof_length(index: int, size: int) -> tuple[int, int]:
    """(inner, border): the proof nodes below the point where the paths to `index` and to the last leaf
    part, and the left siblings above it (one per one bit of `index` up there)."""
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner, border


def _check_root(what: str, computed: bytes, expected: bytes) -> None:
    if computed != expected:
        detail = "" if len(expected) == HASH_SIZE else f" (the expected root is {len(expected)} bytes, not 32)"
        raise RootMismatchError(f"{what}: computed {computed.hex()}, expected {expected.hex()}{detail}")


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that `proof` proves leaf `index`, with hash `leaf_hash`, in the tree of `size` leaves whose root
    hash is `root` (RFC 9162 §2.1.3.2). Returns None; raises a ProofError saying what is wrong otherwise."""
    _check_size("leaf index", index)
    if index >= size:
        raise TreeSizeError(f"leaf index {index} is not in a tree of {size} leaves")
    _check_hash("leaf hash", leaf_hash)
    _check_proof_nodes(proof)
    inner, border = _inclusion_proof_length(index, size)
    if len(proof) != inner + border:
        raise ProofLengthError(
            f"inclusion proof has {len(proof)} nodes; leaf {index} of a tree of {size} needs exactly {inner + border}"
        )
    computed = _root_from_inclusion_path(leaf_hash, index, size, proof)
    _check_root(f"inclusion proof of leaf {index} does not lead to the root of size {size}", computed, root)


def _root_from_inclusion_path(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2 steps 2-5, except the final comparison with the root."""
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofLengthError(f"inclusion proof is longer than leaf {index} of a tree of {size} needs")
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = hash_children(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofLengthError(f"inclusion proof is shorter than leaf {index} of a tree of {size} needs")
    return r


def _consistency_proof_length(size1: int, size2: int) -> int:
    """The exact length of a consistency proof for 0 < size1 < size2."""
    inner, border = _inclusion_proof_length(size1 - 1, size2)
    shift = (size1 & -size1).bit_length() - 1  # trailing zero bits of size1
    seed_in_proof = 0 if size1 == 1 << shift else 1  # unless size1 is a power of two, the proof starts with a seed
    return seed_in_proof + inner - shift + border


def _check_consistency_sizes(size1: int, size2: int) -> None:
    _check_size("size1", size1)
    if size1 > size2:
        raise TreeSizeError(f"size1 {size1} is greater than size2 {size2}: a log never shrinks")
    if size1 == 0:
        raise TreeSizeError("size1 is 0: a consistency proof from the empty tree is meaningless, and refused")


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Check that `proof` proves the tree of `size1` leaves with root `root1` is a prefix of the tree of `size2`
    leaves with root `root2` (RFC 9162 §2.1.4.2). Returns None; raises a ProofError saying what is wrong
    otherwise. Requires 0 < size1 <= size2; between equal sizes the proof is empty and the roots equal."""
    _check_consistency_sizes(size1, size2)
    _check_proof_nodes(proof)
    if size1 == size2:
        if proof:
            raise ProofLengthError(f"sizes are equal ({size1}), so the proof must be empty; it has {len(proof)} nodes")
        _check_root("sizes are equal but the roots differ", root1, root2)
        return
    expected = _consistency_proof_length(size1, size2)
    if len(proof) != expected:
        raise ProofLengthError(
            f"consistency proof has {len(proof)} nodes; from size {size1} to size {size2} needs exactly {expected}"
        )
    first, second = _roots_from_consistency_path(size1, size2, proof, root1)
    _check_root(f"consistency proof does not lead to root1 (size {size1})", first, root1)
    _check_root(f"consistency proof does not lead to root2 (size {size2})", second, root2)


def _roots_from_consistency_path(size1: int, size2: int, proof: Sequence[bytes], root1: bytes) -> tuple[bytes, bytes]:
    """RFC 9162 §2.1.4.2 steps 2-7, except the final comparisons with the roots: returns (fr, sr)."""
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # step 2: size1 is a power of two
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofLengthError(f"consistency proof is longer than from size {size1} to size {size2} needs")
        if fn & 1 or fn == sn:
            fr, sr = hash_children(c, fr), hash_children(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = hash_children(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofLengthError(f"consistency proof is shorter than from size {size1} to size {size2} needs")
    return fr, sr


# --- in-memory storage -----------------------------------------------------------------------------------------------


class MemoryNodes:
    """Perfect-subtree hashes in a dict: the storage scheme above, for tests and the offline verifier (which
    rebuilds the tree from an export). Call it as `node(level, index)`; append leaves with `append`/`extend`."""

    def __init__(self) -> None:
        self._nodes: dict[tuple[int, int], bytes] = {}
        self._size = 0

    @classmethod
    def from_leaf_hashes(cls, leaf_hashes: Iterable[bytes]) -> MemoryNodes:
        store = cls()
        store.extend(leaf_hashes)
        return store

    def __call__(self, level: int, index: int) -> bytes:
        try:
            return self._nodes[(level, index)]
        except KeyError:
            raise KeyError(f"no stored node at level {level}, index {index} (tree of {self._size} leaves)") from None

    @property
    def size(self) -> int:
        """The number of leaves appended."""
        return self._size

    @property
    def nodes(self) -> Mapping[tuple[int, int], bytes]:
        """A read-only view of the stored nodes, by (level, index)."""
        return MappingProxyType(self._nodes)

    def append(self, leaf_hash: bytes) -> None:
        self._store(nodes_completed_by_append(self._size, leaf_hash, self))

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        self._store(nodes_completed_by_appends(self._size, leaf_hashes, self))

    def _store(self, new: list[NewNode]) -> None:
        for level, index, value in new:
            self._nodes[(level, index)] = value
            if level == 0:
                self._size = index + 1

    def _at(self, size: int | None) -> int:
        if size is None:
            return self._size
        if size > self._size:
            raise ValueError(f"tree size {size} is beyond the {self._size} leaves stored")
        return size

    def root(self, size: int | None = None) -> bytes:
        """The root of the first `size` leaves (all of them by default)."""
        return root(self._at(size), self)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(index, self._at(size), self)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        return consistency_proof(size1, self._at(size2), self)
