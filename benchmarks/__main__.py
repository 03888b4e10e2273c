"""Run every benchmark, or the ones named: ``python -m benchmarks authz``.

Options after one benchmark's name go to it: ``python -m benchmarks discovery --servers 20``.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "authz": "benchmarks.authz_decision",
    "discovery": "benchmarks.discovery",
    "search": "benchmarks.search",
}


def main(argv: list[str]) -> int:
    split = next((i for i, a in enumerate(argv) if a.startswith("-")), len(argv))
    names, options = argv[:split] or list(BENCHMARKS), argv[split:]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmarks: {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    if options and len(names) != 1:
        print("options go to one benchmark: name it first, e.g. discovery --servers 20")
        return 2
    for name in names:
        print(f"== {name} ==", flush=True)
        module = importlib.import_module(BENCHMARKS[name])
        if options:
            module.main(options)
        else:
            module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
