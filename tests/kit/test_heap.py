"""``kit.heap.freeze_startup_heap``: what a started server does with its long-lived objects."""

from __future__ import annotations

import gc

from sprintconnect.kit.heap import freeze_startup_heap


def test_the_startup_heap_is_frozen_and_later_garbage_still_collected() -> None:
    try:
        assert freeze_startup_heap() > 0
        assert gc.get_freeze_count() > 0  # frozen objects freed since (by refcount) drop out

        class Node:
            other: object = None

        first, second = Node(), Node()
        first.other, second.other = second, first  # a cycle: only the collector frees it
        del first, second
        assert gc.collect() > 0  # allocated after the freeze: collected as usual
    finally:
        gc.unfreeze()
