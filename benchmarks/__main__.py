"""Run every benchmark, or the one named with its options: ``python -m benchmarks search --quick``.

``make bench`` runs them all; ``make bench ARGS="search --quick"`` passes its arguments here.
``python -m benchmarks NAME --help`` lists a benchmark's options.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "authz": ("benchmarks.authz_decision", "one Cedar decision and a batch of 100 vs always-allow"),
    "discovery": ("benchmarks.discovery", "discovering real MCP servers vs the bare SDK client"),
    "search": ("benchmarks.search", "capability search over HTTP vs the bare endpoint"),
    "request": ("benchmarks.request_cost", "GET /api/v1/me vs a minimal app doing one SELECT"),
    "visible": ("benchmarks.visible", "register to tools visible vs a bare SDK client's listing"),
    "health": ("benchmarks.health", "health checks of 2,000 servers, 1 and 2 workers, vs SDK ping"),
    "audit_read": ("benchmarks.audit_read", "filtered audit pages and an export at 10M entries"),
    "audit_ledger": ("benchmarks.audit_ledger", "audit appends vs INSERT; verify of 1M entries"),
    "webhooks": ("benchmarks.webhooks", "webhook deliveries/s on one worker vs bare httpx POSTs"),
    "auth_tokens": (
        "benchmarks.auth_tokens",
        "/api/v1/me with JWT and DPoP tokens vs an API key",
    ),
    "gateway": (
        "benchmarks.gateway",
        "tools/call through the gateway vs the SDK client calling the upstream directly",
    ),
}


def usage() -> str:
    lines = [
        "usage: python -m benchmarks [NAME ...]",
        "       python -m benchmarks NAME [OPTIONS]   (python -m benchmarks NAME --help)",
        "",
        "Without a name, every benchmark runs with its defaults. Benchmarks:",
    ]
    lines += [f"  {name:<12} {about}" for name, (_module, about) in BENCHMARKS.items()]
    lines += ["", 'From make: make bench ARGS="search --quick"']
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"], ["help"]):
        print(usage())
        return 0
    split = next((i for i, a in enumerate(argv) if a.startswith("-")), len(argv))
    names, options = argv[:split] or list(BENCHMARKS), argv[split:]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmarks: {', '.join(unknown)}\n\n{usage()}", file=sys.stderr)
        return 2
    if options and len(names) != 1:
        print(f"options go to one benchmark: name it first\n\n{usage()}", file=sys.stderr)
        return 2
    for name in names:
        print(f"== {name} ==", flush=True)
        module = importlib.import_module(BENCHMARKS[name][0])
        module.main(options)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
