"""The benchmark report: a Markdown table (printed, and written into docs/benchmarks.md
between markers), ``results/latest.json`` with every sample, and a PNG plot."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks._common import ROOT, Comparison, Row

RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
PLOT = ROOT / "docs" / "assets" / "benchmarks.png"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def _fmt(row: Row) -> str:
    lo, mid, hi = min(row.samples), row.median, max(row.samples)
    text = f"{mid:.3g}" if len(row.samples) == 1 else f"{mid:.3g} ({lo:.3g}–{hi:.3g})"
    return f"{text} {row.unit}" + (f" [{row.note}]" if row.note else "")


def table(comparisons: list[Comparison]) -> str:
    """Markdown: case, remotejobs median (min–max), each reference with the ratio."""
    lines = ["| case | remotejobs | references (ratio remotejobs/reference) | target | met |",
             "|---|---|---|---|---|"]
    for comp in comparisons:
        refs = "; ".join(f"{r.how}: {_fmt(r)} ({comp.ratio(r):.2f}x)" for r in comp.refs) or "–"
        met = {True: "yes", False: "**no**", None: "reported"}[comp.met()]
        lines.append(f"| {comp.case} | {comp.ours.how}: {_fmt(comp.ours)} | {refs} | {comp.target} | {met} |")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    def version(argv: list[str]) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"

    import psij

    return {"python": platform.python_version(), "cpus": os.cpu_count(),
            "kernel": platform.release(), "slurm": version(["sinfo", "--version"]),
            "openssh": subprocess.run(["ssh", "-V"], capture_output=True, text=True, check=False).stderr.strip(),
            "psij": psij.__version__, "load_average": os.getloadavg(),
            "date": datetime.now(UTC).isoformat(timespec="seconds")}


def write(comparisons: list[Comparison], *, smoke: bool, command: str, partial: bool = False) -> str:
    """Write the JSON (and, for a full run, the plot and the docs table); return the table.
    A partial run (``--only``) writes ``partial.json`` only: the page keeps the full run."""
    text = table(comparisons)
    facts = machine()
    RESULTS.mkdir(exist_ok=True)
    name = "smoke.json" if smoke else "partial.json" if partial else "latest.json"
    payload = {"machine": facts, "command": command, "smoke": smoke,
               "comparisons": [c.as_dict() for c in comparisons]}
    (RESULTS / name).write_text(json.dumps(payload, indent=1) + "\n")
    if not smoke and not partial:
        plot(comparisons, PLOT)
        _update_doc(text, facts, command)
    return text


def _update_doc(text: str, facts: dict[str, Any], command: str) -> None:
    doc = DOC.read_text()
    head, _, rest = doc.partition(BEGIN)
    _, _, tail = rest.partition(END)
    about = (f"Measured {facts['date']} with `{command}` on {facts['cpus']} CPUs, Python {facts['python']}, "
             f"{facts['slurm']}, {facts['openssh']}, PSI/J {facts['psij']}; load average at the end "
             f"{facts['load_average'][0]:.1f} (figures from a busy machine are noisy: compare ratios).")
    DOC.write_text(f"{head}{BEGIN}\n{about}\n\n{text}\n{END}{tail}")


def plot(comparisons: list[Comparison], path: Path) -> None:
    """Three panels: jobs/s for submit, status time against ids, transfer MB/s."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.5))
    submit = [c for c in comparisons if c.case.startswith("submit") and c.refs]  # emulators: no reference
    bars = {r.how: 1000 / r.median for c in submit for r in (c.ours, *c.refs)}
    ax1.barh(list(bars), list(bars.values()), color="tab:blue")
    ax1.set_xlabel("jobs/s (higher is better)")
    ax1.set_title("submit")
    status = [c for c in comparisons if c.case.startswith("status of") and c.refs]  # emulators: no reference
    sizes = [int(c.case.split()[2].replace(",", "")) for c in status]
    ax2.plot(sizes, [c.ours.median for c in status], marker="o", label="remotejobs")
    ax2.plot(sizes, [c.refs[0].median for c in status], marker="o", label="PSI/J")
    ax2.set_xscale("log")
    ax2.set_xlabel("ids asked")
    ax2.set_ylabel("ms (lower is better)")
    ax2.set_title("status")
    ax2.legend()
    transfer = [c for c in comparisons if c.case.startswith(("upload", "download"))]
    labels = [f"{c.case.split()[0]}\n{r.how}" for c in transfer for r in (c.ours, *c.refs)]
    values = [r.median for c in transfer for r in (c.ours, *c.refs)]
    ax3.barh(labels, values, color="tab:green")
    ax3.set_xlabel("MB/s (higher is better)")
    ax3.set_title("transfers")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
