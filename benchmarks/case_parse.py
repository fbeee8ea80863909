"""Parse cost of every dialect's status answer: N records for N asked ids (N = 100,000).

Inputs are the repository's golden outputs (captured from the test cluster's Slurm, Grid
Engine and emulators, or real outputs of PBS with their provenance in
``plugins/*/tests/golden/real/SOURCES.md``): their records are cycled with fresh ids until
there are N, so every parser sees its real format and a mix of states and times. The
figure is the wall time of ``dialect.parse_status`` (what a status call pays after the
command returned), with the CPU time of the same call in the note.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import cycle, islice
from typing import Any

from remotejobs_lsf.dialect import LsfDialect
from remotejobs_pbs.dialect import PbsDialect
from remotejobs_sge.dialect import SgeDialect
from remotejobs_slurm.dialect import SlurmDialect
from remotejobs_torque.dialect import TorqueDialect

from benchmarks._common import ROOT, Comparison, Row
from benchmarks._context import Context
from remotejobs.transport.base import CommandResult

GOLDEN = ROOT / "plugins"
FIRST_ID = 3_000_000


def _stdout(path: str) -> str:
    text = (GOLDEN / path).read_text(encoding="utf-8")
    return text.partition("--- stdout\n")[2].partition("--- stderr\n")[0] if "--- stdout\n" in text else text


@dataclass
class Input:
    label: str
    dialect: Any
    stdout: str
    ids: list[str]


def _ids(n: int) -> list[str]:
    return [str(FIRST_ID + i) for i in range(n)]


def _each(templates: list[str], ids: list[str]) -> Iterator[tuple[str, str]]:
    return zip(ids, islice(cycle(templates), len(ids)), strict=True)


def slurm(n: int) -> Input:
    rows = [ln.split("|") for ln in _stdout("remotejobs-slurm/tests/golden/captured_squeue_status.txt").splitlines()]
    plain = ["|".join(r[2:]) for r in rows if r[0].isdigit()]
    ids = _ids(n)
    return Input("Slurm squeue", SlurmDialect(), "".join(f"{i}|{i}|{t}\n" for i, t in _each(plain, ids)), ids)


def lsf_text(n: int) -> Input:
    lines = _stdout("remotejobs-lsf/tests/golden/bjobs_delimited_emulator.txt").splitlines()
    plain = [ln.split("|", 1)[1] for ln in lines if ln.split("|")[1:2] == ["0"]]
    ids = _ids(n)
    return Input("LSF bjobs text", LsfDialect(status_format="delimited"),
                 "".join(f"{i}|{t}\n" for i, t in _each(plain, ids)), ids)


def lsf_json(n: int) -> Input:
    records = json.loads(_stdout("remotejobs-lsf/tests/golden/bjobs_json_emulator.txt"))["RECORDS"]
    plain = [json.dumps(r) for r in records if r.get("JOBINDEX") == "0"]
    ids = _ids(n)
    body = ",\n".join(json.dumps({**json.loads(t), "JOBID": i}, indent=2) for i, t in _each(plain, ids))
    return Input("LSF bjobs -json", LsfDialect(status_format="json"),
                 f'{{\n  "COMMAND":"bjobs",\n  "JOBS":{n},\n  "RECORDS":[\n{body}\n  ]\n}}\n', ids)


def torque_xml(n: int) -> Input:
    text = _stdout("remotejobs-torque/tests/golden/emulator_qstat_x.xml")
    jobs = [j for j in re.findall(r"<Job>.*?</Job>", text, re.S) if "[]" not in j]
    ids = _ids(n)
    body = "".join(re.sub(r"<Job_Id>[^<]*</Job_Id>", f"<Job_Id>{i}.vm</Job_Id>", t) for i, t in _each(jobs, ids))
    return Input("Torque qstat -x (XML)", TorqueDialect(status_format="xml"),
                 f'<?xml version="1.0"?>\n<Data>{body}</Data>\n', ids)


def torque_text(n: int) -> Input:
    text = _stdout("remotejobs-torque/tests/golden/emulator_qstat_f.txt")
    blocks = [b.split("\n", 1)[1] for b in text.split("Job Id: ")[1:] if "[" not in b.split("\n", 1)[0]]
    ids = _ids(n)
    return Input("Torque qstat -f (text)", TorqueDialect(status_format="text"),
                 "".join(f"Job Id: {i}.vm\n{t}" for i, t in _each(blocks, ids)), ids)


def pbs_json(n: int) -> Input:
    document = json.loads(_stdout("remotejobs-pbs/tests/golden/real/swrap_pbs19_qstat_xf_json_running.json"))
    (job,) = document["Jobs"].values()
    ids = _ids(n)
    document["Jobs"] = {f"{i}.meta-pbs.metacentrum.cz": job for i in ids}
    return Input("PBS qstat -F json", PbsDialect(status_format="json"), json.dumps(document, indent=4), ids)


def sge_xml(n: int) -> Input:
    text = _stdout("remotejobs-sge/tests/golden/captured/qstat_xml.txt")
    jobs = [j for j in re.findall(r"<job_list.*?</job_list>", text, re.S) if "<tasks>" not in j]
    ids = _ids(n)
    body = "".join(re.sub(r"<JB_job_number>\d+</JB_job_number>", f"<JB_job_number>{i}</JB_job_number>", t)
                   for i, t in _each(jobs, ids))
    return Input("Grid Engine qstat -xml", SgeDialect(),
                 f"<?xml version='1.0'?>\n<job_info>\n  <queue_info>\n{body}\n  </queue_info>\n</job_info>\n", ids)


BUILDERS: list[Callable[[int], Input]] = [slurm, lsf_text, lsf_json, torque_xml, torque_text, pbs_json, sge_xml]


def measure(item: Input, repeat: int) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds) of ``repeat`` parses; checks every id was answered."""
    result = CommandResult(argv=("status",), exit_status=0, stdout=item.stdout, stderr="")
    got = item.dialect.parse_status(result, item.ids)
    if len(got) != len(item.ids):
        raise SystemExit(f"{item.label}: parse returned {len(got)} of {len(item.ids)} jobs")
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        item.dialect.parse_status(result, item.ids)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return walls, cpus


def dialects(ctx: Context) -> list[Comparison]:
    """Seconds to parse N records of each dialect's status output into N infos."""
    n = 2_000 if ctx.smoke else 100_000
    repeat = 1 if ctx.smoke else 3
    out = []
    for build in BUILDERS:
        item = build(n)
        walls, cpus = measure(item, repeat)
        case = f"parse {n:,} records: {item.label}"
        size = len(item.stdout.encode()) / 1e6
        ours = Row(case, "remotejobs", "s", walls,
                   note=f"{size:.0f} MB of output; CPU {min(cpus):.3g}-{max(cpus):.3g} s")
        out.append(Comparison(case, ours, [], "< 0.5 s", limit=0.5))
    return out
