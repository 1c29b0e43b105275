"""The storage scheme of perfect-subtree nodes: appends cost O(log n) and never recompute, roots and proofs come
from O(log n) stored nodes, and everything agrees with the naive RFC 9162 definitions. Refusals first."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.transparency.merkle import (
    EMPTY_ROOT,
    HashSizeError,
    MemoryNodes,
    NodeReader,
    ProofError,
    consistency_proof,
    hash_leaf,
    inclusion_proof,
    node_ids_read,
    nodes_completed_by_append,
    nodes_completed_by_appends,
    root,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

MAX_SIZE = 300


def leaf_hashes(count: int, salt: bytes = b"") -> list[bytes]:
    return [hash_leaf(salt + index.to_bytes(4, "big")) for index in range(count)]


class CountingReader:
    """Wraps a store, counting the nodes read."""

    def __init__(self, store: NodeReader) -> None:
        self.store = store
        self.reads: list[tuple[int, int]] = []

    def __call__(self, level: int, index: int) -> bytes:
        self.reads.append((level, index))
        return self.store(level, index)


def reader_of(nodes: dict[tuple[int, int], bytes]) -> NodeReader:
    return lambda level, index: nodes[(level, index)]


def trailing_ones(n: int) -> int:
    return (n ^ (n + 1)).bit_length() - 1


# --- refusals ----------------------------------------------------------------------------------------------------

TREE_10 = MemoryNodes.from_leaf_hashes(leaf_hashes(10))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: inclusion_proof(10, 10, TREE_10), "leaf index 10 is not in a tree of 10 leaves"),
        (lambda: inclusion_proof(-1, 10, TREE_10), "leaf index -1 is not in a tree of 10 leaves"),
        (lambda: inclusion_proof(0, 0, TREE_10), "leaf index 0 is not in a tree of 0 leaves"),
        (lambda: consistency_proof(0, 10, TREE_10), "no consistency proof from size 0 to size 10"),
        (lambda: consistency_proof(5, 4, TREE_10), "no consistency proof from size 5 to size 4"),
        (lambda: root(-1, TREE_10), "tree size is -1"),
        (lambda: TREE_10.root(11), "tree size 11 is beyond the 10 leaves stored"),
        (lambda: TREE_10.inclusion_proof(3, 11), "tree size 11 is beyond"),
        (lambda: TREE_10.consistency_proof(3, 11), "tree size 11 is beyond"),
        (lambda: nodes_completed_by_append(-1, EMPTY_ROOT, TREE_10), "size_before is -1"),
        (lambda: nodes_completed_by_appends(-1, [EMPTY_ROOT], TREE_10), "size_before is -1"),
    ],
)
def test_impossible_requests_are_refused(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("bad", [b"", b"\x00" * 31, b"\x00" * 33, "00" * 32])
def test_a_leaf_hash_that_is_not_32_bytes_is_refused(bad: bytes) -> None:
    with pytest.raises(HashSizeError, match="leaf hash is"):
        nodes_completed_by_append(0, bad, MemoryNodes())
    with pytest.raises(HashSizeError, match="leaf hash is"):
        MemoryNodes().extend([EMPTY_ROOT, bad])
    with pytest.raises(HashSizeError, match="leaf hash is"):
        nodes_completed_by_appends(3, [EMPTY_ROOT, EMPTY_ROOT, bad], MemoryNodes.from_leaf_hashes(leaf_hashes(3)))


def test_reading_a_node_that_is_not_stored_says_which() -> None:
    with pytest.raises(KeyError, match="no stored node at level 4, index 0 \\(tree of 10 leaves\\)"):
        TREE_10(4, 0)
    with pytest.raises(KeyError, match="level 2, index 2"):
        root(12, TREE_10)  # a tree beyond what is stored reads nodes that are not there


# --- the write path ----------------------------------------------------------------------------------------------


def test_appending_stores_the_leaf_and_the_perfect_subtrees_it_completes() -> None:
    store = MemoryNodes.from_leaf_hashes(leaf_hashes(7))
    new = nodes_completed_by_append(7, hash_leaf(b"eighth"), store)
    assert [(level, index) for level, index, _ in new] == [(0, 7), (1, 3), (2, 1), (3, 0)]
    assert new[-1][2] == root_from_leaf_hashes([*leaf_hashes(7), hash_leaf(b"eighth")])


@pytest.mark.parametrize("size_before", [*range(70), 1023, 1024, 4095, 65535])
def test_an_append_reads_only_the_left_siblings_it_completes(size_before: int) -> None:
    store = MemoryNodes.from_leaf_hashes(leaf_hashes(size_before))
    reader = CountingReader(store)
    new = nodes_completed_by_append(size_before, hash_leaf(b"next"), reader)
    assert len(reader.reads) == trailing_ones(size_before) == len(new) - 1 <= size_before.bit_length()


@pytest.mark.parametrize(("size_before", "batch"), [(0, 5000), (1, 5000), (4095, 5000), (5000, 1), (12345, 3000)])
def test_a_batch_reads_each_old_border_node_once(size_before: int, batch: int) -> None:
    store = MemoryNodes.from_leaf_hashes(leaf_hashes(size_before))
    reader = CountingReader(store)
    new = nodes_completed_by_appends(size_before, leaf_hashes(batch, b"batch"), reader)
    assert len(reader.reads) == len(set(reader.reads)) <= size_before.bit_count()
    assert all((index + 1) << level <= size_before for level, index in reader.reads)  # only nodes already stored
    assert sum(1 for level, _, _ in new if level == 0) == batch


def test_the_store_grows_by_about_two_nodes_a_leaf() -> None:
    store = MemoryNodes.from_leaf_hashes(leaf_hashes(1000))
    assert store.size == 1000
    assert len(store.nodes) == 2 * 1000 - (1000).bit_count()


@settings(max_examples=60, deadline=None)
@given(
    size_before=st.integers(0, MAX_SIZE),
    cuts=st.lists(st.integers(0, MAX_SIZE), max_size=8),
    salt=st.binary(max_size=8),
)
def test_appending_in_batches_gives_the_nodes_of_appending_one_by_one(
    size_before: int, cuts: list[int], salt: bytes
) -> None:
    old, added = leaf_hashes(size_before, salt), leaf_hashes(MAX_SIZE - size_before, salt + b"new")
    one_by_one = MemoryNodes.from_leaf_hashes(old)
    expected = []
    for leaf_hash in added:
        new = nodes_completed_by_append(one_by_one.size, leaf_hash, one_by_one)
        expected.extend(new)
        one_by_one.append(leaf_hash)

    batched = MemoryNodes.from_leaf_hashes(old)
    got = []
    bounds = sorted({0, len(added), *(cut for cut in cuts if cut <= len(added))})
    for start, end in itertools.pairwise(bounds):
        got.extend(nodes_completed_by_appends(batched.size, added[start:end], batched))
        batched.extend(added[start:end])

    assert got == expected
    assert dict(batched.nodes) == dict(one_by_one.nodes)


# --- the read path against the naive definitions -----------------------------------------------------------------


@st.composite
def trees(draw: st.DrawFn) -> tuple[MemoryNodes, list[bytes]]:
    """A store of 1..MAX_SIZE random leaves, and the leaf hashes."""
    size = draw(st.integers(1, MAX_SIZE))
    hashes = leaf_hashes(size, draw(st.binary(min_size=1, max_size=8)))
    return MemoryNodes.from_leaf_hashes(hashes), hashes


@settings(max_examples=200, deadline=None)
@given(tree=trees(), data=st.data())
def test_the_root_from_stored_nodes_is_the_naive_root(
    tree: tuple[MemoryNodes, list[bytes]], data: st.DataObject
) -> None:
    store, hashes = tree
    for size in {0, 1, store.size, *data.draw(st.lists(st.integers(0, store.size), max_size=5))}:
        reader = CountingReader(store)
        assert root(size, reader) == root_from_leaf_hashes(hashes[:size])
        assert len(reader.reads) == size.bit_count()


def mutations(proof: list[bytes], extra: bytes) -> list[tuple[str, list[bytes]]]:
    """Each proof with one bit flipped (in every node, at a bit chosen per node), one node dropped, one node added."""
    mutated = []
    for position, node in enumerate(proof):
        bit = (position * 37 + len(proof)) % 256
        flipped = bytearray(node)
        flipped[bit // 8] ^= 1 << (bit % 8)
        mutated.append(
            (f"bit {bit} of node {position} flipped", [*proof[:position], bytes(flipped), *proof[position + 1 :]])
        )
        mutated.append((f"node {position} dropped", proof[:position] + proof[position + 1 :]))
    for position in range(len(proof) + 1):
        mutated.append((f"node added at {position}", [*proof[:position], extra, *proof[position:]]))
    mutated.append(("a copy of a node added", [*proof, *proof[-1:]]) if proof else ("empty root added", [EMPTY_ROOT]))
    return mutated


def log2_bound(size: int) -> int:
    return 2 * size.bit_length() + 1


@settings(max_examples=200, deadline=None)
@given(tree=trees(), data=st.data())
def test_inclusion_proofs_from_stored_nodes_verify_and_any_change_is_refused(
    tree: tuple[MemoryNodes, list[bytes]], data: st.DataObject
) -> None:
    store, hashes = tree
    size = data.draw(st.integers(1, store.size), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    reader = CountingReader(store)
    proof = inclusion_proof(index, size, reader)
    assert len(reader.reads) <= log2_bound(size)
    naive_root = root_from_leaf_hashes(hashes[:size])

    verify_inclusion(hashes[index], index, size, proof, naive_root)

    extra = data.draw(st.binary(min_size=32, max_size=32), label="extra node")
    for change, mutated in mutations(proof, extra):
        with pytest.raises(ProofError):
            verify_inclusion(hashes[index], index, size, mutated, naive_root)
            pytest.fail(f"inclusion proof with {change} verified")
    for other_index in {index - 1, index + 1} & set(range(size)):
        with pytest.raises(ProofError):
            verify_inclusion(hashes[index], other_index, size, proof, naive_root)


@settings(max_examples=200, deadline=None)
@given(tree=trees(), data=st.data())
def test_consistency_proofs_from_stored_nodes_verify_and_any_change_is_refused(
    tree: tuple[MemoryNodes, list[bytes]], data: st.DataObject
) -> None:
    store, hashes = tree
    size2 = data.draw(st.integers(1, store.size), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    reader = CountingReader(store)
    proof = consistency_proof(size1, size2, reader)
    assert len(reader.reads) <= log2_bound(size2) + 1
    root1, root2 = root_from_leaf_hashes(hashes[:size1]), root_from_leaf_hashes(hashes[:size2])

    verify_consistency(size1, size2, proof, root1, root2)

    extra = data.draw(st.binary(min_size=32, max_size=32), label="extra node")
    for change, mutated in mutations(proof, extra):
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, mutated, root1, root2)
            pytest.fail(f"consistency proof with {change} verified")
    if size1 < size2:
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, proof, root2, root1)


def test_every_proof_of_every_small_tree_verifies_and_every_bit_flip_is_refused() -> None:
    hashes = leaf_hashes(33, b"small")
    store = MemoryNodes.from_leaf_hashes(hashes)
    roots = [root_from_leaf_hashes(hashes[:size]) for size in range(len(hashes) + 1)]
    for size in range(1, len(hashes) + 1):
        for index in range(size):
            proof = store.inclusion_proof(index, size)
            verify_inclusion(hashes[index], index, size, proof, roots[size])
            for position in range(len(proof)):
                for bit in range(0, 256, 51):
                    flipped = bytearray(proof[position])
                    flipped[bit // 8] ^= 1 << (bit % 8)
                    with pytest.raises(ProofError):
                        verify_inclusion(
                            hashes[index],
                            index,
                            size,
                            [*proof[:position], bytes(flipped), *proof[position + 1 :]],
                            roots[size],
                        )
        for size1 in range(1, size + 1):
            proof = store.consistency_proof(size1, size)
            verify_consistency(size1, size, proof, roots[size1], roots[size])
            for position in range(len(proof)):
                flipped = bytearray(proof[position])
                flipped[position % 32] ^= 0x80
                with pytest.raises(ProofError):
                    verify_consistency(
                        size1,
                        size,
                        [*proof[:position], bytes(flipped), *proof[position + 1 :]],
                        roots[size1],
                        roots[size],
                    )


def test_the_nodes_a_computation_reads_can_be_listed_beforehand_for_one_fetch() -> None:
    store = MemoryNodes.from_leaf_hashes(leaf_hashes(21))
    assert node_ids_read(lambda node: root(21, node)) == [(0, 20), (2, 4), (4, 0)]
    for compute in (
        lambda node: root(13, node),
        lambda node: inclusion_proof(5, 21, node),
        lambda node: consistency_proof(6, 21, node),
        lambda node: nodes_completed_by_appends(21, leaf_hashes(40, b"more"), node),
    ):
        wanted = node_ids_read(compute)
        fetched = {node_id: store(*node_id) for node_id in wanted}  # stands for the rows one query returned
        assert compute(reader_of(fetched)) == compute(store)
