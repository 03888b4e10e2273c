"""Merkle trees as Certificate Transparency builds them (RFC 6962, RFC 9162 section 2.1).

Leaves are hashed ``SHA-256(0x00 || data)``, interior nodes ``SHA-256(0x01 || left || right)``;
a tree of ``n`` leaves splits at the largest power of two below ``n``. Everything here works on
leaf *hashes* and is pure: the callers decide where leaves come from.

- ``root`` hashes a list; ``Frontier`` hashes a stream in O(n) time and O(log n) memory (the
  "compact range" ``[0, n)``: one perfect subtree root per set bit of ``n``).
- ``inclusion_ranges`` / ``consistency_ranges`` say which subtrees a proof is made of, as leaf
  ranges; ``proof_from_stream`` hashes them in one ordered pass over the leaves, so a proof over
  a million leaves needs no list of a million hashes. ``inclusion_proof`` and
  ``consistency_proof`` are the in-memory shortcuts.
- ``verify_inclusion`` and ``verify_consistency`` are RFC 9162 2.1.3.2 and 2.1.4.2.
- With the hashes of perfect aligned subtrees stored (``Frontier.append_nodes`` names the
  ones each leaf completes), ``tiled_parts`` says which stored nodes and which few edge leaves
  a range's hash is made of, and ``tiled_root`` combines them: a proof in O(log n) reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof that does not verify, or a request for one that cannot exist."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle tree hash of ``leaves`` (leaf hashes), ``EMPTY_ROOT`` for none."""
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


# (level, index): the perfect subtree of leaves [index << level, (index + 1) << level)
Node = tuple[int, int]


class Frontier:
    """The right edge of a growing tree: one hash per perfect subtree, largest first.

    ``append`` is amortized O(1); ``root`` is O(log n). ``hashes`` and ``from_hashes`` carry
    the state elsewhere (an export's evidence starts a verifier's frontier from it).
    """

    __slots__ = ("_hashes", "size")

    def __init__(self) -> None:
        self.size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_hashes(cls, size: int, hashes: Sequence[bytes]) -> Frontier:
        if size < 0 or len(hashes) != size.bit_count():
            raise ProofError(f"a frontier of size {size} has {size.bit_count()} hashes")
        if any(len(h) != HASH_SIZE for h in hashes):
            raise ProofError("a frontier hash is not 32 bytes")
        frontier = cls()
        frontier.size = size
        frontier._hashes = list(hashes)
        return frontier

    @property
    def hashes(self) -> list[bytes]:
        return list(self._hashes)

    def append(self, leaf: bytes) -> None:
        node = leaf
        size = self.size
        # Each trailing one bit of the old size is a perfect subtree the new leaf completes.
        while size & 1:
            node = node_hash(self._hashes.pop(), node)
            size >>= 1
        self._hashes.append(node)
        self.size += 1

    def append_nodes(self, leaf: bytes, min_level: int = 0) -> list[tuple[Node, bytes]]:
        """``append``, and return the perfect aligned subtrees the leaf completes at
        ``min_level`` and above, lowest first: ``((level, index), hash)``."""
        done: list[tuple[Node, bytes]] = []
        end = self.size + 1
        if min_level <= 0:
            done.append(((0, self.size), leaf))
        node, size, level = leaf, self.size, 0
        while size & 1:
            node = node_hash(self._hashes.pop(), node)
            size >>= 1
            level += 1
            if level >= min_level:
                done.append(((level, (end >> level) - 1), node))
        self._hashes.append(node)
        self.size = end
        return done

    def root(self) -> bytes:
        if not self._hashes:
            return EMPTY_ROOT
        node = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            node = node_hash(left, node)
        return node


Range = tuple[int, int]  # [start, end) in leaf indices


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees of the audit path of leaf ``index`` in a tree of ``size`` (RFC 6962 PATH),
    in proof order (the leaf's sibling first)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    ranges: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index - lo < k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo = lo + k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The subtrees of the consistency proof between sizes ``first`` and ``second``
    (RFC 6962 PROOF / SUBPROOF), in proof order. Empty when ``first`` is 0 or equals
    ``second``."""
    if not 0 <= first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    if first in (0, second):
        return []
    ranges: list[Range] = []
    lo, hi, m, whole = 0, second, first, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


class RangeHasher:
    """Hashes disjoint leaf ranges from leaves fed in index order from 0 (one pass).

    ``end`` is how many leaves it needs; ``proof()`` the hashes in the ranges' order.
    """

    def __init__(self, ranges: Sequence[Range]) -> None:
        self._ranges = list(ranges)
        self._order = sorted(range(len(ranges)), key=lambda i: ranges[i][0])
        self.end = max((r[1] for r in ranges), default=0)
        self._out: list[bytes | None] = [None] * len(ranges)
        self._position = 0
        self._current = 0
        self._frontier: Frontier | None = None

    def feed(self, leaf: bytes) -> None:
        position = self._position
        self._position += 1
        order, ranges = self._order, self._ranges
        while self._current < len(order) and ranges[order[self._current]][1] <= position:
            self._current += 1
        if self._current == len(order):
            return
        start, stop = ranges[order[self._current]]
        if start <= position < stop:
            if self._frontier is None:
                self._frontier = Frontier()
            self._frontier.append(leaf)
            if position + 1 == stop:
                self._out[order[self._current]] = self._frontier.root()
                self._frontier = None

    def proof(self) -> list[bytes]:
        done = [h for h in self._out if h is not None]
        if len(done) != len(self._out):
            raise ProofError(
                f"the leaves end at {self._position}, before the proof's end {self.end}"
            )
        return done


def proof_from_stream(ranges: Sequence[Range], leaves: Iterable[bytes]) -> list[bytes]:
    """Hash ``ranges`` (disjoint) from ``leaves`` given in index order from 0, in one pass.

    Only leaves below the largest range end are read; the iterator may go on past it.
    """
    hasher = RangeHasher(ranges)
    if hasher.end:
        for count, leaf in enumerate(leaves, start=1):
            hasher.feed(leaf)
            if count >= hasher.end:
                break
    return hasher.proof()


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    return proof_from_stream(inclusion_ranges(index, len(leaves)), leaves)


def consistency_proof(first: int, leaves: Sequence[bytes]) -> list[bytes]:
    return proof_from_stream(consistency_ranges(first, len(leaves)), leaves)


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is not a 32-byte hash")


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` implies for ``leaf`` at ``index`` (RFC 9162 2.1.3.2)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    _check_hash(leaf, "the leaf")
    fn, sn, node = index, size - 1, leaf
    for sibling in proof:
        _check_hash(sibling, "a proof element")
        if sn == 0:
            raise ProofError("the proof is longer than the tree is high")
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            node = node_hash(node, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is high")
    return node


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> None:
    """Raise ``ProofError`` unless ``proof`` shows ``leaf`` at ``index`` under the root."""
    if root_from_inclusion(index, size, leaf, proof) != expected_root:
        raise ProofError("the inclusion proof does not lead to the root")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise ``ProofError`` unless the tree of size ``second`` extends the one of ``first``
    (RFC 9162 2.1.4.2)."""
    _check_hash(first_root, "the first root")
    _check_hash(second_root, "the second root")
    if not 0 <= first <= second:
        raise ProofError(f"size {first} cannot precede size {second}")
    if first == second:
        if proof:
            raise ProofError("equal sizes take an empty proof")
        if first_root != second_root:
            raise ProofError("equal sizes with different roots")
        return
    if first == 0:
        if proof:
            raise ProofError("the empty tree takes an empty proof")
        return
    if not proof:
        raise ProofError("the proof is empty")
    for element in proof:
        _check_hash(element, "a proof element")
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first tree is a node of the second
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for element in path[1:]:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is high")
        if fn & 1 or fn == sn:
            fr = node_hash(element, fr)
            sr = node_hash(element, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, element)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is high")
    if fr != first_root:
        raise ProofError("the proof does not lead to the first root")
    if sr != second_root:
        raise ProofError("the proof does not lead to the second root")


def node_range(node: Node) -> Range:
    level, index = node
    return index << level, (index + 1) << level


def is_tree_range(start: int, end: int) -> bool:
    """Whether ``[start, end)`` is a subtree of some RFC 6962 tree: ``start`` a multiple of
    the smallest power of two that holds ``end - start`` leaves. Every range a proof names,
    every ``[0, n)`` and every perfect aligned subtree is one."""
    count = end - start
    return count >= 1 and start >= 0 and start % (1 << (count - 1).bit_length()) == 0


def tiled_parts(start: int, end: int, min_level: int) -> tuple[list[Node], Range | None]:
    """What the hash of the tree range ``[start, end)`` is made of when every perfect aligned
    subtree of ``min_level`` and above is stored: those nodes, left to right, and the leaves
    at the right edge (fewer than ``2 ** min_level``, ``None`` when there are none).
    ``tiled_root`` combines them."""
    if not is_tree_range(start, end):
        raise ProofError(f"[{start}, {end}) is not a subtree of a Merkle tree")
    nodes: list[Node] = []
    lo, hi = start, end
    while lo < hi:
        count = hi - lo
        if count & (count - 1) == 0 and count >= 1 << min_level:
            level = count.bit_length() - 1
            nodes.append((level, lo >> level))
            return nodes, None
        if count < 1 << min_level:
            return nodes, (lo, hi)
        k = _split(count)  # the left part is perfect, aligned and at least 2 ** min_level
        level = k.bit_length() - 1
        nodes.append((level, lo >> level))
        lo += k
    return nodes, None


def tiled_root(node_hashes: Sequence[bytes], edge_leaves: Sequence[bytes]) -> bytes:
    """The hash of a tree range from ``tiled_parts``: its nodes' hashes, in order, and the
    leaf hashes of its right edge (empty when there is none). Each node is the left half
    of what follows it (RFC 6962's split)."""
    if edge_leaves:
        node = root(edge_leaves)
        lefts = list(node_hashes)
    elif node_hashes:
        node, lefts = node_hashes[-1], list(node_hashes[:-1])
    else:
        raise ProofError("an empty range has no subtree hash")
    for left in reversed(lefts):
        node = node_hash(left, node)
    return node


def perfect_ranges(size: int) -> list[Range]:
    """The compact range ``[0, size)``: one perfect subtree per set bit, largest first (the
    ranges a ``Frontier`` of ``size`` leaves holds the hashes of)."""
    ranges: list[Range] = []
    start = 0
    for bit in reversed(range(size.bit_length())):
        if size >> bit & 1:
            ranges.append((start, start + (1 << bit)))
            start += 1 << bit
    return ranges
