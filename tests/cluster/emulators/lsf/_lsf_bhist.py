"""LSF emulator: a minimal ``bhist`` (ref §1.5).

``bhist [-a] [-d] [-w] [-l] [-u user|all] [jobId ...]``: the summary of seconds spent in
each state (row format ``%-7.7s %-7.7s %-9.9s %-8.0f...``, names cut to 8 chars plus ``*``
unless -w), or with -l a timeline. It reads the emulator's records, so like the real
bhist (which reads lsb.events) it still knows jobs after CLEAN_PERIOD.
"""

from __future__ import annotations

import sys
import time

import _lsf_emu as emu


def _seconds(v: emu.View) -> tuple[float, float, float]:
    now = time.time()
    submitted = float(v.job.rec["submit_time"])
    end = v.finish if v.final and v.finish else now
    started = v.start if v.start else None
    pend = (started or end) - submitted
    run = (end - started) if started else 0.0
    return max(0.0, pend), max(0.0, run), max(0.0, end - submitted)


def main(argv: list[str]) -> int:
    me = emu.caller()
    opts = {a for a in argv if a in ("-a", "-d", "-w", "-l")}
    user = me
    ids = []
    args = iter(a for a in argv if a not in opts)
    for arg in args:
        if arg == "-u":
            user = next(args, me)
        elif arg.startswith("-"):
            emu.die(f"{arg}: Illegal option\nUsage: bhist [-a] [-d] [-l] [-w] [-u user|all] [jobId ...]")
        else:
            ids.append(arg)
    found: list[emu.View] = []
    for text in ids:
        ref = emu.parse_job_ref(text)
        job = emu.find_job(ref[0], archived=True) if ref else None
        found += [v for v in (emu.views([job], me, include_cleaned=True) if job else [])
                  if ref is None or ref[1] is None or v.idx == ref[1]]
    if not ids:
        found = emu.views(emu.all_jobs(None if user == "all" else user, archived=True), me, include_cleaned=True)
        if "-a" not in opts:
            found = [v for v in found if v.final == ("-d" in opts)]
    if not found:
        emu.die("No matching job found")
    if "-l" in opts:
        for n, v in enumerate(found):
            rec = v.job.rec
            lines = ["-" * 78] if n else []
            lines += ["", f"Job <{v.ref}>, Job Name <{rec['name']}>, User <{v.job.user}>, Project <default>, "
                      f"Command <{rec['command']}>",
                      f"{emu.long_time(rec['submit_time'])}: Submitted from host <{rec['from_host']}>, to Queue "
                      f"<{rec['queue']}>, CWD <{rec['cwd']}>;"]
            if v.start:
                lines.append(f"{emu.long_time(v.start)}: Dispatched to <{v.host}>;")
                lines.append(f"{emu.long_time(v.start)}: Starting (Pid {v.pid});")
            if v.final and v.finish:
                what = ("Done successfully." if v.stat == "DONE"
                        else f"Exited with exit code {v.exit_code if v.exit_code is not None else 2}.")
                lines.append(f"{emu.long_time(v.finish)}: {what} The CPU time used is 0.0 seconds.")
            pend, run, total = _seconds(v)
            lines += ["", f"Summary of time in seconds spent in various states by  {emu.long_time(time.time())}",
                      "  PEND     PSUSP    RUN      USUSP    SSUSP    UNKWN    TOTAL",
                      f"  {pend:<9.0f}0        {run:<9.0f}0        0        0        {total:<9.0f}", ""]
            sys.stdout.write("\n".join(lines) + "\n")
        return 0
    sys.stdout.write("Summary of time in seconds spent in various states:\n")
    sys.stdout.write("JOBID   USER    JOB_NAME  PEND    PSUSP   RUN     USUSP   SSUSP   UNKWN   TOTAL\n")
    for v in found:
        name = v.job.rec["name"] + (f"[{v.idx}]" if v.job.is_array else "")
        if "-w" not in opts and len(name) > 9:
            name = name[:8] + "*"
        pend, run, total = _seconds(v)
        fmt = "%-7.7s %-7.7s %-9.9s %-8.0f%-8.0f%-8.0f%-8.0f%-8.0f%-8.0f%-10.0f\n"
        if "-w" in opts:
            fmt = "%-7s %-7s %-9s %-8.0f%-8.0f%-8.0f%-8.0f%-8.0f%-8.0f%-10.0f\n"
        sys.stdout.write(fmt % (v.ref, v.job.user, name, pend, 0, run, 0, 0, 0, total))
    return 0
