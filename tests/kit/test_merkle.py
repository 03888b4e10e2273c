"""kit.merkle against the published RFC 6962 vectors (tests/kit/data/merkle, from the
transparency-dev/merkle test data), recomputed, and against every mutation of each proof."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sprintconnect.kit import merkle
from sprintconnect.kit.merkle import ProofError

DATA = Path(__file__).parent / "data" / "merkle"


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / name).read_text())
    return loaded


LEAVES = [merkle.leaf_hash(bytes.fromhex(h)) for h in _load("leaves.json")["leaves"]]
ROOTS = {int(k): _b64(v) for k, v in _load("leaves.json")["roots"].items()}
INCLUSION = _load("inclusion.json")["cases"]
CONSISTENCY = _load("consistency.json")["cases"]


def test_the_empty_tree_hashes_to_sha256_of_nothing() -> None:
    assert merkle.root([]) == bytes.fromhex(_load("leaves.json")["empty_root_hex"])
    assert merkle.Frontier().root() == merkle.EMPTY_ROOT


@pytest.mark.parametrize("size", sorted(ROOTS))
def test_roots_of_the_reference_tree(size: int) -> None:
    assert merkle.root(LEAVES[:size]) == ROOTS[size]


def test_the_frontier_agrees_with_the_recursive_definition_for_every_size() -> None:
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(70)]

    def mth(items: list[bytes]) -> bytes:
        if len(items) == 1:
            return items[0]
        k = 1 << ((len(items) - 1).bit_length() - 1)
        return merkle.node_hash(mth(items[:k]), mth(items[k:]))

    frontier = merkle.Frontier()
    for n, leaf in enumerate(leaves, start=1):
        frontier.append(leaf)
        assert frontier.root() == mth(leaves[:n])
        assert len(frontier.hashes) == n.bit_count()
        resumed = merkle.Frontier.from_hashes(n, frontier.hashes)
        assert resumed.root() == frontier.root()


@pytest.mark.parametrize("case", INCLUSION, ids=[c["name"] for c in INCLUSION])
def test_published_inclusion_vectors(case: dict[str, Any]) -> None:
    proof = [_b64(p) for p in case["proof"] or []]
    args = (case["leafIdx"], case["treeSize"], _b64(case["leafHash"]), proof, _b64(case["root"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)
        # Recomputed from the reference tree: the same proof.
        size = case["treeSize"]
        assert merkle.inclusion_proof(case["leafIdx"], LEAVES[:size]) == proof


@pytest.mark.parametrize("case", CONSISTENCY, ids=[c["name"] for c in CONSISTENCY])
def test_published_consistency_vectors(case: dict[str, Any]) -> None:
    proof = [_b64(p) for p in case["proof"] or []]
    args = (case["size1"], case["size2"], _b64(case["root1"]), _b64(case["root2"]), proof)
    if case["wantErr"]:
        with pytest.raises(ProofError):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)
        assert merkle.consistency_proof(case["size1"], LEAVES[: case["size2"]]) == proof


def _refused(check: Any, *args: Any) -> bool:
    try:
        check(*args)
    except ProofError:
        return True
    return False


def _flip(value: bytes, bit: int) -> bytes:
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


@dataclass(frozen=True)
class Inclusion:
    index: int
    size: int
    leaf: bytes
    proof: tuple[bytes, ...]
    root: bytes


def _shape(index: int, size: int) -> list[bool] | None:
    if not 0 <= index < size:
        return None
    return [start > index for start, _ in merkle.inclusion_ranges(index, size)]


def _cshape(first: int, second: int) -> list[bool]:
    return [start < first for start, _ in merkle.consistency_ranges(first, second)]


def _inclusion_mutations(c: Inclusion) -> Iterator[tuple[str, Inclusion]]:
    proof = list(c.proof)
    for index in {c.index - 1, c.index + 1, c.index ^ 2, c.index + c.size}:
        if index != c.index and index >= 0:
            yield f"index {index}", Inclusion(index, c.size, c.leaf, c.proof, c.root)
    for size in {c.size - 1, c.size + 1, c.size * 2, c.size // 2}:
        # A size whose audit path has the same shape (e.g. leaf 0 of 3 and of 4) leads to the
        # same root: only the signed checkpoint binds the size. Those are not mutations.
        if size != c.size and _shape(c.index, size) != _shape(c.index, c.size):
            yield f"size {size}", Inclusion(c.index, size, c.leaf, c.proof, c.root)
    yield "leaf bit", Inclusion(c.index, c.size, _flip(c.leaf, 3), c.proof, c.root)
    yield "root bit", Inclusion(c.index, c.size, c.leaf, c.proof, _flip(c.root, 200))
    yield "empty root", Inclusion(c.index, c.size, c.leaf, c.proof, merkle.EMPTY_ROOT)
    for i in range(len(proof)):
        bad = proof.copy()
        bad[i] = _flip(bad[i], 9)
        yield f"proof[{i}] bit", Inclusion(c.index, c.size, c.leaf, tuple(bad), c.root)
    if proof:
        yield "truncated", Inclusion(c.index, c.size, c.leaf, tuple(proof[:-1]), c.root)
        yield "first dropped", Inclusion(c.index, c.size, c.leaf, tuple(proof[1:]), c.root)
    yield "extended", Inclusion(c.index, c.size, c.leaf, (*proof, c.root), c.root)
    yield "preceded", Inclusion(c.index, c.size, c.leaf, (c.leaf, *proof), c.root)
    if len(proof) > 1:
        swapped = (proof[1], proof[0], *proof[2:])
        yield "swapped", Inclusion(c.index, c.size, c.leaf, swapped, c.root)
    yield "short hash", Inclusion(c.index, c.size, c.leaf, (*proof[:-1], b"\x00"), c.root)


def _all_inclusions(max_size: int) -> Iterator[Inclusion]:
    leaves = [merkle.leaf_hash(i.to_bytes(2, "big")) for i in range(max_size)]
    for size in range(1, max_size + 1):
        tree_root = merkle.root(leaves[:size])
        for index in range(size):
            proof = merkle.inclusion_proof(index, leaves[:size])
            yield Inclusion(index, size, leaves[index], tuple(proof), tree_root)


def test_every_inclusion_proof_up_to_size_33_verifies_and_every_mutation_is_refused() -> None:
    checked = 0
    for case in _all_inclusions(33):
        merkle.verify_inclusion(case.index, case.size, case.leaf, case.proof, case.root)
        for name, bad in _inclusion_mutations(case):
            refused = _refused(
                merkle.verify_inclusion, bad.index, bad.size, bad.leaf, bad.proof, bad.root
            )
            assert refused, f"{name} of {case.index}/{case.size} verified"
            checked += 1
    assert checked > 5000


def test_every_consistency_proof_up_to_size_33_verifies_and_every_mutation_is_refused() -> None:
    leaves = [merkle.leaf_hash(i.to_bytes(2, "big")) for i in range(33)]
    roots = [merkle.root(leaves[:n]) for n in range(34)]
    for second in range(1, 34):
        for first in range(1, second + 1):
            proof = merkle.consistency_proof(first, leaves[:second])
            merkle.verify_consistency(first, second, roots[first], roots[second], proof)
            mutations: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
                (first, second, roots[second], roots[first], proof),  # swapped roots
                (first, second, _flip(roots[first], 1), roots[second], proof),
                (first, second, roots[first], _flip(roots[second], 1), proof),
                (first, second, roots[first], roots[second], [*proof, roots[1]]),  # extended
                (first, second, roots[first], roots[second], [roots[1], *proof]),  # preceded
            ]
            if first != second:
                mutations += [(first, second, roots[first], roots[second], proof[:-1])]
                # Sizes whose proofs have the same shape lead to the same roots (only the
                # signed checkpoints bind the sizes): not mutations.
                for a, b in ((first + 1, second), (first, second + 1), (first - 1, second)):
                    if 0 < a <= b and _cshape(a, b) != _cshape(first, second):
                        mutations.append((a, b, roots[first], roots[second], proof))
            for i in range(len(proof)):
                bad = proof.copy()
                bad[i] = _flip(bad[i], 17)
                mutations.append((first, second, roots[first], roots[second], bad))
            if len(proof) > 1:
                mutations.append(
                    (first, second, roots[first], roots[second], [proof[1], proof[0], *proof[2:]])
                )
            for a, b, r1, r2, p in mutations:
                if (a, b, r1, r2, p) == (first, second, roots[first], roots[second], proof):
                    continue
                refused = _refused(merkle.verify_consistency, a, b, r1, r2, p)
                assert refused, f"a mutation of {first}->{second} verified"


def test_proofs_from_a_stream_read_each_leaf_once_and_may_stop_early() -> None:
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(1000)]
    read = 0

    def stream() -> Iterator[bytes]:
        nonlocal read
        for leaf in leaves:
            read += 1
            yield leaf

    ranges = merkle.inclusion_ranges(417, 700)
    proof = merkle.proof_from_stream(ranges, stream())
    merkle.verify_inclusion(417, 700, leaves[417], proof, merkle.root(leaves[:700]))
    assert read <= 701


@pytest.mark.parametrize(
    ("call", "args"),
    [
        (merkle.inclusion_ranges, (0, 0)),
        (merkle.inclusion_ranges, (5, 5)),
        (merkle.inclusion_ranges, (-1, 5)),
        (merkle.consistency_ranges, (6, 5)),
        (merkle.consistency_ranges, (-1, 5)),
    ],
)
def test_impossible_proofs_are_refused(call: Any, args: tuple[int, int]) -> None:
    with pytest.raises(ProofError):
        call(*args)


def test_a_stream_shorter_than_the_proof_is_refused() -> None:
    with pytest.raises(ProofError):
        merkle.proof_from_stream(merkle.inclusion_ranges(0, 8), iter(LEAVES[:5]))


def test_a_frontier_with_the_wrong_number_of_hashes_is_refused() -> None:
    with pytest.raises(ProofError):
        merkle.Frontier.from_hashes(3, [LEAVES[0]])
    with pytest.raises(ProofError):
        merkle.Frontier.from_hashes(1, [b"short"])


def test_the_empty_tree_is_consistent_with_any_tree_by_the_empty_proof() -> None:
    merkle.verify_consistency(0, 8, merkle.EMPTY_ROOT, ROOTS[8], [])
    with pytest.raises(ProofError):
        merkle.verify_consistency(0, 8, merkle.EMPTY_ROOT, ROOTS[8], [ROOTS[1]])
