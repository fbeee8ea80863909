"""LSF emulator: ``bkill`` (IBM bkill.1).

``bkill [-s signal] jobId | "jobId[index]" | 0 ...``. Success on stdout, one line per
job: ``Job <N> is being terminated`` (``signaled``/``stopped``/``resumed`` with -s), exit
0. Errors on stderr, exit 255: ``Job <N>: No matching job found``, ``Job <N>: Job has
already finished``, ``Job <N>: User permission denied``. A kill record is written before
``scancel``, so the job ends EXIT with ``TERM_OWNER: job killed by owner``; ``bkill 123``
kills the whole array, ``bkill "123[2]"`` one element.
"""

from __future__ import annotations

import os
import sys
import time

import _lsf_emu as emu

VERBS = {"": "being terminated", "KILL": "being terminated", "TERM": "being terminated",
         "STOP": "being stopped", "CONT": "being resumed"}


def main(argv: list[str]) -> int:
    me = emu.caller()
    sig = ""
    targets: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] == "-s" and i + 1 < len(argv):
            sig = argv[i + 1].upper().removeprefix("SIG")
            i += 1
        elif argv[i].startswith("-"):
            emu.die(f"{argv[i]}: Illegal option\nUsage: bkill [-h] [-V] [-s signal] [jobId | \"jobId[index]\" ...]")
        else:
            targets.append(argv[i])
        i += 1
    if not targets:
        emu.die("Usage: bkill [-h] [-V] [-s signal] [jobId | \"jobId[index]\" ...]")
    if targets == ["0"]:
        targets = [str(j.id) for j in emu.all_jobs(me)
                   if any(not v.final for v in emu.views([j], me))]
        if not targets:
            emu.die("No unfinished job found")
    status = 0
    for text in targets:
        ok, message = kill_one(text, sig, me)
        (sys.stdout if ok else sys.stderr).write(message + "\n")
        if not ok:
            status = 255
    return status


def kill_one(text: str, sig: str, me: str) -> tuple[bool, str]:
    ref = emu.parse_job_ref(text)
    job = emu.find_job(ref[0]) if ref else None
    found = emu.views([job], me) if job else []
    if ref and ref[1] is not None:
        found = [v for v in found if v.idx == ref[1] and v.job.is_array]
    if job is None or not found:
        return False, f"Job <{text}>: No matching job found"  # assumed: wording (README)
    if job.user != me and os.getuid() != 0:
        return False, f"Job <{text}>: User permission denied"  # assumed: wording (README)
    alive = [v for v in found if not v.final]
    if not alive:
        return False, f"Job <{text}>: Job has already finished"  # real, via PAC (Mantid LSFJobManager.cpp)
    terminate = sig in ("", "KILL", "TERM", "INT")
    if terminate:
        for v in alive:
            emu.write_json(job.element_file(v.idx, "kill"), {"time": time.time(), "reason": emu.TERM_OWNER})
    slurm_id = text.replace("[", "_").rstrip("]") if ref and ref[1] is not None else str(job.id)
    argv = ["scancel", slurm_id] if terminate else ["scancel", "-s", sig, slurm_id]
    if sig == "STOP":
        argv = ["scontrol", "suspend", slurm_id]
    elif sig == "CONT":
        argv = ["scontrol", "resume", slurm_id]
    proc = emu.slurm(argv)
    if proc.returncode != 0 and terminate is False:
        # assumed: Slurm refusal relayed (README Assumed)
        return False, f"Job <{text}>: {proc.stderr.strip() or 'Operation not permitted'}"
    return True, f"Job <{text}> is {VERBS.get(sig, 'being signaled')}"
