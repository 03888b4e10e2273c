"""Running native code that recurses on untrusted input where its stack cannot run out.

A native parser that recurses per level of nesting overflows the 8 MiB stack of the main
thread (the event loop's) long before Python's recursion limit would notice, and a stack
overflow in native code is a SIGSEGV that ends the whole process. ``BigStackWorker`` runs such
calls on one reused thread created with a large stack; memory for a stack is only committed as
it is touched, so a large one costs address space, not RAM.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_STACK_BYTES = 256 * 1024 * 1024

# ``threading.stack_size`` is process-wide: hold this while it is changed for one thread start.
_STACK_SIZE_LOCK = threading.Lock()


class BigStackWorker:
    """One thread with a ``stack_bytes`` stack, started on first use and reused after."""

    def __init__(self, name: str, *, stack_bytes: int = DEFAULT_STACK_BYTES) -> None:
        self.name = name
        self.stack_bytes = stack_bytes
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _started(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.name)
                with _STACK_SIZE_LOCK:
                    previous = threading.stack_size(self.stack_bytes)
                    try:
                        # The executor starts its one thread on the first submit; wait for it
                        # so that the thread exists before the stack size goes back.
                        executor.submit(threading.get_ident).result()
                    finally:
                        threading.stack_size(previous)
                self._executor = executor
            return self._executor

    def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` on the worker thread and wait for it (for synchronous callers)."""
        return self._started().submit(fn, *args, **kwargs).result()

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` on the worker thread; the event loop stays free meanwhile."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._started(), partial(fn, *args, **kwargs))

    def shutdown(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=True)
                self._executor = None
