"""``sprintconnect`` with a profiler switched by signals, for the gateway benchmark.

``python -m benchmarks.gateway_profiled STATS serve --port N``: the command runs as usual;
``SIGUSR1`` starts recording (in the main thread, where uvicorn runs the app), ``SIGUSR2``
stops it and writes the result to ``STATS``. So only the measured load is recorded, not the
imports and start-up that a whole-process profile would be dominated by.

The profiler is cProfile (exact self times; cumulative times are unreliable across
SQLAlchemy's greenlets and coroutines; ``print_profile`` summarizes its stats), or, when
``STATS`` ends in ``.txt`` and ``pyinstrument`` can be imported, pyinstrument's sampled call
tree (wall time of the main thread, 1 ms interval), which attributes time through awaits and
greenlets.
"""

from __future__ import annotations

import cProfile
import importlib
import os
import pstats
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any


def _recorder(out: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """Start and stop functions; stop writes the result to ``out``, whole or not at all."""
    if out.endswith(".txt"):
        # Optional, not a dependency of the project: imported by name only when asked for.
        sampler = importlib.import_module("pyinstrument").Profiler(
            interval=0.001, async_mode="disabled"
        )

        def write_tree() -> None:
            sampler.stop()
            text = sampler.output_text(unicode=True, color=False, show_all=False)
            with open(out + ".part", "w", encoding="utf-8") as file:
                file.write(text)
            os.replace(out + ".part", out)

        return sampler.start, write_tree
    profiler = cProfile.Profile()

    def write_stats() -> None:
        profiler.disable()
        profiler.dump_stats(out + ".part")
        os.replace(out + ".part", out)

    return profiler.enable, write_stats


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit("usage: python -m benchmarks.gateway_profiled STATS COMMAND [ARGS]")
    start, stop = _recorder(sys.argv[1])

    def on_start(_signal: int, _frame: FrameType | None) -> None:
        start()

    def on_stop(_signal: int, _frame: FrameType | None) -> None:
        stop()

    signal.signal(signal.SIGUSR1, on_start)
    signal.signal(signal.SIGUSR2, on_stop)
    sys.argv = ["sprintconnect", *sys.argv[2:]]
    from sprintconnect.cli import main as cli

    cli()


# -- reading cProfile's stats ------------------------------------------------------------------


def print_profile(out: Path, calls: int) -> None:
    stats: Any = pstats.Stats(str(out))
    total = stats.total_tt
    entries = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)
    print(f"  top 10 by self time ({total:.1f} s recorded; us per call of the load):")
    for (filename, line, name), (_cc, ncalls, tottime, cumtime, _callers) in entries[:10]:
        print(
            f"    {tottime / total * 100:5.1f}% {tottime / calls * 1e6:8.1f} us  "
            f"calls/call {ncalls / calls:7.1f}  cum {cumtime / total * 100:5.1f}%  "
            f"{name}  {_short(filename, line)}"
        )
    by_package: dict[str, float] = {}
    for (filename, _line, _name), (_cc, _n, tottime, _cum, _callers) in entries:
        by_package[_package(filename)] = by_package.get(_package(filename), 0.0) + tottime
    shares = sorted(by_package.items(), key=lambda item: item[1], reverse=True)[:12]
    print(
        "  self time by package: "
        + ", ".join(f"{name} {spent / total * 100:.0f}%" for name, spent in shares)
    )
    own = [
        item
        for item in sorted(stats.stats.items(), key=lambda item: item[1][3], reverse=True)
        if "sprintconnect/" in item[0][0]
    ]
    print(
        "  SprintConnect's functions by cumulative time (us per call of the load; approximate: "
        "coroutines and greenlets confuse it):"
    )
    for (filename, line, name), (_cc, _n, _tottime, cumtime, _callers) in own[:12]:
        print(f"    {cumtime / calls * 1e6:8.1f} us  {name}  {_short(filename, line)}")
    print(f"  stats: {out} (python -m pstats; sort tottime or cumulative)")


def _package(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/src/sprintconnect/" in filename:
        return "sprintconnect"
    if filename == "~":
        return "builtins (C)"
    return "stdlib"


def _short(filename: str, line: int) -> str:
    for marker in ("site-packages/", "src/"):
        if marker in filename:
            return f"{filename.split(marker, 1)[1]}:{line}"
    return f"{filename}:{line}" if line else filename


if __name__ == "__main__":
    main()
