"""Torque emulator ``qstat`` and ``qdel`` (``qsub`` is in _torque_qsub.py).

Sources: Torque's own commands (github.com/adaptivecomputing/torque ``src/cmds/qstat.c``, ``src/cmds/qdel.c``,
``src/include/pbs_error_db.h``); each message's source is listed in README.md ("Sources"),
and what none shows is marked ``# assumed:`` and listed under "Assumed":

- qstat (``qstat.c``): default table, ``-f`` (``-1`` unwrapped), ``-x`` XML (implies -f), ``-t``
  expands array elements (array parents show as ``N[]``). Unknown ids print
  # torque: src/include/pbs_error_db.h
  ``qstat: Unknown Job Id Error <id>`` on stderr while known ids still print, and the exit
  # torque: src/cmds/qalter.c, qchkpt.c
  status is 153 (PBSE_UNKJOBID 15001 & 0xFF); ``qstat: illegally formed job identifier:``
  for malformed ids. Invalid options: getopt's ``invalid option -- 'c'`` and usage, exit 2.
# torque: src/cmds/qdel.c
- qdel (``qdel.c``): silent success; unknown id ``qdel: nonexistent job id: <id>`` (Torque 5.1+/6)
  with exit 153. Not verified by the reference, reproduced from Torque's error table
  (pbs_error.h / pbs_error_db.h): a job already completed (still kept) answers
  # torque: pbs_error_db.h (PBSE_BADSTATE), svr_chk_owner.c
  ``qdel: Request invalid for state of job MSG=invalid state for job - COMPLETE <id>``
  with exit 168 (PBSE_BADSTATE 15016), another user's job
  # torque: src/include/pbs_error_db.h, pbs_messages.c
  ``qdel: Unauthorized Request  MSG=operation not permitted <id>`` with exit 159
  (PBSE_PERM 15007).
"""

from __future__ import annotations

import sys
from typing import Any

import _torque_emu as emu
import _torque_view as view

_QSTAT_USAGE = ("usage: qstat [-f [-1]] [-W site_specific] [-x] [-t] [ job_identifier... | "
                "destination... ]\n       qstat [-a|-i|-r|-e] [-u user] [-n [-1]] [-s] [-G|-M] "
                "[-R] [job_id... | destination...]\n")


def _parse_flags(argv: list[str], flags: str, with_arg: str
                 ) -> tuple[dict[str, str], list[str]] | str:
    """POSIX getopt(3) as Torque's qstat/qdel use it (adaptivecomputing/torque
    src/cmds/qdel.c: ``getopt(argc, argv, "m:pW:")``): options up to the first operand or
    up to ``--``, which ends the options and is itself dropped."""
    opts: dict[str, str] = {}
    rest: list[str] = []
    ended = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--" and not rest and not ended:
            ended = True
        elif arg.startswith("-") and len(arg) > 1 and not rest and not ended:
            j = 1
            while j < len(arg):
                letter = arg[j]
                if letter in with_arg:
                    value = arg[j + 1:] or (argv[i + 1] if i + 1 < len(argv) else None)
                    if value is None:
                        return f"option requires an argument -- '{letter}'"
                    if not arg[j + 1:]:
                        i += 1
                    opts[letter] = value
                    break
                if letter not in flags:
                    return f"invalid option -- '{letter}'"
                opts[letter] = ""
                j += 1
        else:
            rest.append(arg)
        i += 1
    return opts, rest


def qstat(argv: list[str]) -> int:
    parsed = _parse_flags(argv, "fx1tanisrGMeR", "uW")
    if isinstance(parsed, str):
        sys.stderr.write(f"qstat: {parsed}\n{_QSTAT_USAGE}")  # assumed: glibc getopt wording (README Assumed)
        return 2
    opts, ids = parsed
    try:
        jobs = view.collect(expand_arrays="t" in opts)
    except RuntimeError as exc:
        # torque: src/cmds/qalter.c wording (README Assumed)
        return emu.fail("qstat", f"cannot connect to server {emu.server_name()} ({exc})", 1)
    rc = 0
    if ids:
        by_id = {v["id"]: v for v in jobs}
        chosen: list[dict[str, Any]] = []
        for text in ids:
            jid = emu.JobId.parse(text)
            if jid is None:
                # torque: src/cmds/qalter.c, qchkpt.c
                sys.stderr.write(f"qstat: illegally formed job identifier: {text}\n")
                rc = 1
                continue
            found = by_id.get(jid.full())
            if found is None and jid.index == "" and not any(v["seq"] == jid.seq for v in jobs):
                found = None
            if found is None:
                sys.stderr.write(f"qstat: Unknown Job Id Error {jid.full()}\n")  # torque: src/include/pbs_error_db.h
                rc = emu.exit_code(emu.PBSE_UNKJOBID)
                continue
            chosen.append(found)
            if "t" in opts and jid.index == "":
                chosen.extend(v for v in jobs if v["seq"] == jid.seq and v["index"])
        jobs = chosen
    elif "u" in opts:
        users = set(opts["u"].split(","))
        jobs = [v for v in jobs if str(v["attrs"]["Job_Owner"]).split("@")[0] in users]
    if "x" in opts:
        sys.stdout.write(view.xml(jobs))
    elif "f" in opts:
        sys.stdout.write(view.full(jobs, one_line="1" in opts))
    elif jobs:
        sys.stdout.write(view.table(jobs))
    return rc


def qdel(argv: list[str]) -> int:
    parsed = _parse_flags(argv, "p", "Wmt")
    if isinstance(parsed, str) or not parsed[1]:
        problem = parsed if isinstance(parsed, str) else "job identifier required"
        # torque: src/cmds/qdel.c usage
        sys.stderr.write(f"qdel: {problem}\nusage: qdel [{{ -a | -p | -t | -W delay | -m "
                         "message}] <JOBID>[ <JOBID>]|'all'|'ALL'\n")
        return 2
    ids = parsed[1]
    try:
        jobs = {v["id"]: v for v in view.collect(expand_arrays=True)}
    except RuntimeError as exc:
        # torque: src/cmds/qalter.c wording (README Assumed)
        return emu.fail("qdel", f"cannot connect to server {emu.server_name()} ({exc})", 1)
    me = emu.me()
    rc = 0
    for text in ids:
        jid = emu.JobId.parse(text)
        if jid is None:
            rc = emu.fail("qdel", f"illegally formed job identifier: {text}", 1)  # torque: src/cmds/qalter.c, qchkpt.c
            continue
        job = jobs.get(jid.full())
        if job is None:
            # torque: src/cmds/qdel.c
            rc = emu.fail("qdel", f"nonexistent job id: {text}", emu.exit_code(emu.PBSE_UNKJOBID))
            continue
        attrs = job["attrs"]
        if str(attrs["Job_Owner"]).split("@")[0] != me:
            # torque: src/include/pbs_error_db.h, pbs_messages.c
            rc = emu.fail("qdel", f"Unauthorized Request  MSG=operation not permitted {jid.full()}",
                          emu.exit_code(emu.PBSE_PERM))
            continue
        if attrs["job_state"] == "C":
            # torque: pbs_error_db.h (PBSE_BADSTATE), svr_chk_owner.c
            rc = emu.fail("qdel", "Request invalid for state of job MSG=invalid state for job - "
                          f"COMPLETE {jid.full()}", emu.exit_code(emu.PBSE_BADSTATE))
            continue
        target = str(jid.seq) if not jid.index else f"{jid.seq}_{jid.index}"
        done = emu.slurm("scancel", target)
        if done.returncode != 0:
            detail = done.stderr.strip().removeprefix("scancel: error: ")
            rc = emu.fail("qdel", f"{detail} {jid.full()}", 1)  # assumed: Slurm refusal relayed (README Assumed)
    return rc
