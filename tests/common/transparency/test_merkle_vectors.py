"""RFC 9162 proof verification against the shared transparency-dev/merkle vectors (rfc9162-vectors/, every
file), refusals first; then proofs built from stored nodes reproduce the vectors' proofs byte for byte."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from services.common.transparency.merkle import (
    EMPTY_ROOT,
    HashSizeError,
    MemoryNodes,
    ProofError,
    ProofLengthError,
    RootMismatchError,
    TreeSizeError,
    hash_children,
    hash_leaf,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).parent / "rfc9162-vectors"
VECTOR_FILES = sorted(VECTORS.rglob("*.json"))

# The 8-leaf reference tree of the RFC 6962 test suite, on which the vectors' happy paths are built.
REFERENCE_LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")
]
REFERENCE_ROOT = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
REFERENCE_TREE = MemoryNodes.from_leaf_hashes(hash_leaf(leaf) for leaf in REFERENCE_LEAVES)


def load(path: Path) -> dict[str, Any]:
    vector: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return vector


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def proof_of(vector: dict[str, Any]) -> list[bytes]:
    return [b64(node) for node in vector["proof"] or []]  # the vectors write an empty proof as null or []


def vectors(kind: str, want_error: bool) -> list[Any]:
    return [
        pytest.param(load(path), id=str(path.relative_to(VECTORS)))
        for path in VECTOR_FILES
        if path.relative_to(VECTORS).parts[0] == kind and load(path)["wantErr"] is want_error
    ]


def check_inclusion(vector: dict[str, Any]) -> None:
    verify_inclusion(
        b64(vector["leafHash"]), vector["leafIdx"], vector["treeSize"], proof_of(vector), b64(vector["root"])
    )


def check_consistency(vector: dict[str, Any]) -> None:
    verify_consistency(vector["size1"], vector["size2"], proof_of(vector), b64(vector["root1"]), b64(vector["root2"]))


def test_every_vector_file_is_run() -> None:
    parametrised = sum(len(vectors(kind, want)) for kind in ("inclusion", "consistency") for want in (True, False))
    assert len(VECTOR_FILES) == parametrised == 196
    assert (VECTORS / "LICENSE").is_file()


# --- refusals ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", vectors("inclusion", want_error=True))
def test_inclusion_vector_is_refused(vector: dict[str, Any]) -> None:
    with pytest.raises(ProofError):
        check_inclusion(vector)


@pytest.mark.parametrize("vector", vectors("consistency", want_error=True))
def test_consistency_vector_is_refused(vector: dict[str, Any]) -> None:
    with pytest.raises(ProofError):
        check_consistency(vector)


LEAF0 = hash_leaf(REFERENCE_LEAVES[0])
LEAF1 = hash_leaf(REFERENCE_LEAVES[1])
ROOT2 = hash_children(LEAF0, LEAF1)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ((LEAF0, 2, 2, [LEAF1], ROOT2), TreeSizeError, "leaf index 2 is not in a tree of 2 leaves"),
        ((LEAF0, 0, 0, [], EMPTY_ROOT), TreeSizeError, "leaf index 0 is not in a tree of 0 leaves"),
        ((LEAF0, -1, 2, [LEAF1], ROOT2), TreeSizeError, "leaf index is -1"),
        ((LEAF0[:31], 0, 2, [LEAF1], ROOT2), HashSizeError, "leaf hash is 31 bytes"),
        ((LEAF0, 0, 2, [LEAF1 + b"\x00"], ROOT2), HashSizeError, "proof node 0 is 33 bytes"),
        (
            (LEAF0, 0, 2, [], ROOT2),
            ProofLengthError,
            "inclusion proof has 0 nodes; leaf 0 of a tree of 2 needs exactly 1",
        ),
        ((LEAF0, 0, 2, [LEAF1, LEAF1], ROOT2), ProofLengthError, "has 2 nodes"),
        ((LEAF0, 0, 1, [LEAF1], LEAF0), ProofLengthError, "a tree of 1 needs exactly 0"),
        ((LEAF0, 1, 2, [LEAF1], ROOT2), RootMismatchError, "does not lead to the root"),
        ((LEAF0, 0, 2, [LEAF1], ROOT2[:16]), RootMismatchError, "the expected root is 16 bytes"),
    ],
)
def test_inclusion_refusals_say_what_is_wrong(
    arguments: tuple[Any, ...], error: type[ProofError], message: str
) -> None:
    with pytest.raises(error, match=message):
        verify_inclusion(*arguments)


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ((2, 1, [], ROOT2, LEAF0), TreeSizeError, "size1 2 is greater than size2 1"),
        ((0, 2, [], EMPTY_ROOT, ROOT2), TreeSizeError, "from the empty tree is meaningless"),
        ((0, 0, [], EMPTY_ROOT, EMPTY_ROOT), TreeSizeError, "from the empty tree"),
        ((0, 2, [EMPTY_ROOT], EMPTY_ROOT, ROOT2), TreeSizeError, "from the empty tree"),
        ((-1, 2, [], EMPTY_ROOT, ROOT2), TreeSizeError, "size1 is -1"),
        ((2, 2, [LEAF0], ROOT2, ROOT2), ProofLengthError, "sizes are equal \\(2\\), so the proof must be empty"),
        ((2, 2, [], ROOT2, LEAF0), RootMismatchError, "sizes are equal but the roots differ"),
        ((1, 2, [], LEAF0, ROOT2), ProofLengthError, "has 0 nodes; from size 1 to size 2 needs exactly 1"),
        ((1, 2, [LEAF1, LEAF1], LEAF0, ROOT2), ProofLengthError, "has 2 nodes"),
        ((1, 2, [LEAF1[:3]], LEAF0, ROOT2), HashSizeError, "proof node 0 is 3 bytes"),
        (
            (3, 4, REFERENCE_TREE.consistency_proof(3, 4), REFERENCE_TREE.root(2), REFERENCE_TREE.root(4)),
            RootMismatchError,
            "does not lead to root1 \\(size 3\\)",
        ),
        ((1, 2, [LEAF0], LEAF0, ROOT2), RootMismatchError, "does not lead to root2"),
    ],
)
def test_consistency_refusals_say_what_is_wrong(
    arguments: tuple[Any, ...], error: type[ProofError], message: str
) -> None:
    with pytest.raises(error, match=message):
        verify_consistency(*arguments)


def test_proof_errors_are_value_errors() -> None:
    assert issubclass(ProofError, ValueError)
    for error in (TreeSizeError, HashSizeError, ProofLengthError, RootMismatchError):
        assert issubclass(error, ProofError)


# --- acceptances -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", vectors("inclusion", want_error=False))
def test_inclusion_vector_verifies(vector: dict[str, Any]) -> None:
    check_inclusion(vector)  # returns None, raises on refusal


@pytest.mark.parametrize("vector", vectors("consistency", want_error=False))
def test_consistency_vector_verifies(vector: dict[str, Any]) -> None:
    check_consistency(vector)


def test_the_reference_tree_has_the_reference_root() -> None:
    leaf_hashes = [hash_leaf(leaf) for leaf in REFERENCE_LEAVES]
    assert root_from_leaf_hashes(leaf_hashes) == REFERENCE_ROOT
    assert MemoryNodes.from_leaf_hashes(leaf_hashes).root() == REFERENCE_ROOT
    assert (
        root_from_leaf_hashes([])
        == EMPTY_ROOT
        == bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    )


def on_reference_tree(kind: str) -> list[Any]:
    """The happy vectors that prove something about the reference tree (all but the synthetic single-leaf ones)."""
    size, root = ("treeSize", "root") if kind == "inclusion" else ("size2", "root2")
    return [
        param
        for param in vectors(kind, want_error=False)
        if param.values[0][size] <= REFERENCE_TREE.size
        and REFERENCE_TREE.root(param.values[0][size]) == b64(param.values[0][root])
    ]


def test_all_but_the_synthetic_happy_vectors_are_on_the_reference_tree() -> None:
    assert len(on_reference_tree("inclusion")) == len(vectors("inclusion", want_error=False)) - 1 == 5
    assert len(on_reference_tree("consistency")) == len(vectors("consistency", want_error=False)) - 1 == 5


@pytest.mark.parametrize("vector", on_reference_tree("inclusion"))
def test_inclusion_proofs_from_stored_nodes_match_the_vectors(vector: dict[str, Any]) -> None:
    assert REFERENCE_TREE.inclusion_proof(vector["leafIdx"], vector["treeSize"]) == proof_of(vector)


@pytest.mark.parametrize("vector", on_reference_tree("consistency"))
def test_consistency_proofs_from_stored_nodes_match_the_vectors(vector: dict[str, Any]) -> None:
    assert REFERENCE_TREE.root(vector["size1"]) == b64(vector["root1"])
    assert REFERENCE_TREE.consistency_proof(vector["size1"], vector["size2"]) == proof_of(vector)
