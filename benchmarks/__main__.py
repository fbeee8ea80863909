"""``python -m benchmarks [--smoke] [--only CASE ...]``: run the benchmark cases on the live
test cluster side by side with their references, print the table, write the results.

``make bench`` runs everything at full size (several minutes; writes
``benchmarks/results/latest.json``, the plot ``docs/assets/benchmarks.png`` and the table in
``docs/benchmarks.md``);
``make bench-smoke`` runs every case at a tiny size (CI runs it, to keep the suite working;
its figures mean nothing and are written to ``results/smoke.json`` only).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from benchmarks import case_cpu, case_emulators, case_parse, case_slurm, case_ssh
from benchmarks._common import Comparison
from benchmarks._context import Context
from benchmarks.report import write

CASES: dict[str, Callable[[Context], list[Comparison]]] = {
    "command": case_ssh.command_cost,
    "submit": case_slurm.submit,
    "status": case_slurm.status,
    "wait": case_slurm.wait,
    "parse": case_cpu.parse,
    "parse-dialects": case_parse.dialects,
    "arrays": case_cpu.arrays,
    "memory": case_cpu.memory,
    "transfers": case_ssh.transfers,
    "emulators": case_emulators.emulators,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the suite runs, figures mean nothing")
    parser.add_argument("--only", nargs="+", choices=sorted(CASES), help="run only these cases")
    args = parser.parse_args(argv)
    ctx = Context(smoke=args.smoke)
    comparisons: list[Comparison] = []
    try:
        for name, case in CASES.items():
            if args.only and name not in args.only:
                continue
            print(f"[bench] {name} ...", file=sys.stderr, flush=True)
            comparisons += case(ctx)
    finally:
        ctx.close()
    command = "make bench-smoke" if args.smoke else "make bench"
    print(write(comparisons, smoke=args.smoke, command=command if not args.only else f"{command} (partial)",
                partial=bool(args.only)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
