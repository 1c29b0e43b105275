"""The root of an RFC 9162 tree computed in one pass over its leaf hashes, holding O(log n) hashes: for
verifying a whole log (or an export of it) without storing its nodes."""

from __future__ import annotations

from services.common.transparency.merkle import EMPTY_ROOT, hash_children


class RootAccumulator:
    """Append leaf hashes in order; `root()` is MTH of the leaves so far. Keeps the roots of the perfect
    subtrees the tree is made of (one per one bit of the size), merging two of a height as a binary
    counter carries."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []  # (level, hash), levels strictly decreasing
        self._size = 0

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf_hash: bytes) -> None:
        level, current = 0, leaf_hash
        stack = self._stack
        while stack and stack[-1][0] == level:
            current = hash_children(stack.pop()[1], current)
            level += 1
        stack.append((level, current))
        self._size += 1

    def root(self) -> bytes:
        """The root hash of the tree of the leaves appended so far."""
        if not self._stack:
            return EMPTY_ROOT
        result = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            result = hash_children(left, result)
        return result
