"""PBS emulator ``qstat`` and ``qdel`` (``qsub`` is in _pbs_qsub.py).

qstat (openpbs:src/cmds/qstat.c, doc/man1/qstat.1B): ``-f`` full, ``-F json`` (with
``-f``), ``-x`` adds finished jobs kept by job history, ``-t`` adds an array's subjobs,
``-w`` wide (no wrapping), ``-u`` filters users in the table. Per id: ``qstat: Unknown
Job Id <id>`` (prt_job_err, PBSE_UNKJOBID); a finished job without ``-x``: ``qstat: <id>
# openpbs:src/lib/Liblog/pbs_messages.c (PBSE_HISTJOBID)
Job has finished, use -x or -H to obtain historical job information`` (PBSE_HISTJOBID);
``qstat: illegally formed job identifier: <id>``; the others still print; exit status the
last error & 0xFF. ``-F`` without ``-f``, or an unknown option: usage, exit 2
[assumed: getopt's message "invalid option -- 'c'" from glibc].

qdel (openpbs:src/cmds/qdel.c ``process_deljobstat``: ``qdel: <error text> <id>``):
``Unknown Job Id`` (153), ``Job has finished`` (35), ``Unauthorized Request `` (159),
``Request invalid for state of job`` for an exiting job (168), ``Request invalid for
finished array subjob`` (55); silent success; ``qdel: illegally formed job identifier:``.
"""

from __future__ import annotations

import sys
from typing import Any

import _pbs_emu as emu
import _pbs_view as view

_QSTAT_USAGE = (  # qstat.c usage[] and usag2[]
    "usage: \n"
    "qstat [-f] [-J] [-p] [-t] [-x] [-E] [-F format | -w] [-D delim] [ job_identifier... | destination... ]\n"
    "qstat [-a|-i|-r|-H|-T] [-J] [-t] [-u user] [-n] [-s] [-G|-M] [-1] [-w]\n"
    "\t[ job_identifier... | destination... ]\n"
    "qstat -Q [-f] [-F format] [-D delim] [ destination... ]\n"
    "qstat -q [-G|-M] [ destination... ]\n"
    "qstat -B [-f] [-F format] [-D delim] [ server_name... ]\n"
    "qstat --version\n"
)


def _parse(argv: list[str], flags: str, with_arg: str) -> tuple[dict[str, str], list[str]] | str:
    opts: dict[str, str] = {}
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--" and not rest:  # getopt(3), which qstat.c/qdel.c use: "--" ends the options
            rest.extend(argv[i + 1:])
            break
        if arg.startswith("-") and len(arg) > 1 and not rest:
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
    parsed = _parse(argv, "fxtwpJEHainrsGM1T", "FDuW")
    if not isinstance(parsed, str) and "F" in parsed[0]:
        parsed[0]["F"] = parsed[0]["F"].lower()  # qstat.c: strcasecmp(optarg, "json")
    if isinstance(parsed, str) or ("F" in parsed[0] and ("f" not in parsed[0]
                                                         or parsed[0]["F"] != "json")):
        # assumed: glibc getopt wording (docstring)
        sys.stderr.write(f"qstat: {parsed}\n" if isinstance(parsed, str) else "")
        sys.stderr.write(_QSTAT_USAGE)
        return 2
    opts, operands = parsed
    try:
        jobs = view.collect()
    except RuntimeError as exc:
        # openpbs:src/lib/Libpbs/pbsD_connect.c; baw-server capture (golden/real)
        return emu.fail("qstat", f"cannot connect to server {emu.server_name()} (errno=15010) ({exc})", 1)
    history = "x" in opts or "H" in opts
    rc = 0
    chosen: list[dict[str, Any]] = []
    if operands:
        by_id = {v["id"]: v for v in jobs}
        for text in operands:
            jid = emu.JobId.parse(text)
            if jid is None:
                # openpbs:src/cmds/qstat.c (get_server)
                rc = emu.fail("qstat", f"illegally formed job identifier: {text}", 1)
                continue
            found = by_id.get(jid.full())
            if found is None:
                # openpbs:src/cmds/qstat.c prt_job_err; pbs_messages.c
                rc = emu.fail("qstat", f"Unknown Job Id {jid.full()}", emu.exit_code(emu.PBSE_UNKJOBID))
                continue
            if found["attrs"]["job_state"] in ("F", "X") and not history:
                # openpbs:src/lib/Liblog/pbs_messages.c (PBSE_HISTJOBID)
                rc = emu.fail("qstat", f"{jid.full()} Job has finished, use -x or -H to obtain "
                              "historical job information", emu.exit_code(emu.PBSE_HISTJOBID))
                continue
            chosen.append(found)
            if "t" in opts and jid.index == "":
                chosen += [v for v in jobs if v["seq"] == jid.seq and v["index"]]
    else:
        chosen = [v for v in jobs if (v["index"] is None or v["index"] == "" or "t" in opts)
                  and (history or v["attrs"]["job_state"] not in ("F", "X"))]
        if "u" in opts:
            users = set(opts["u"].split(","))
            chosen = [v for v in chosen if str(v["attrs"]["Job_Owner"]).split("@")[0] in users]
    if opts.get("F") == "json":
        sys.stdout.write(view.as_json(chosen))
    elif "f" in opts:
        sys.stdout.write(view.full(chosen, wide="w" in opts))
    elif chosen:
        sys.stdout.write(view.table(chosen))
    return rc


def qdel(argv: list[str]) -> int:
    parsed = _parse(argv, "x", "W")
    if isinstance(parsed, str) or not parsed[1]:
        # openpbs:src/cmds/qdel.c usage
        sys.stderr.write("usage:\n\tqdel [-W force|suppress_email=X] [-x] job_identifier...\n"
                         "\tqdel --version\n")
        return 2
    try:
        jobs = {v["id"]: v for v in view.collect()}
    except RuntimeError as exc:
        # openpbs:src/cmds/qdel.c
        return emu.fail("qdel", f"Couldn't connect to cluster: {emu.server_name()} ({exc})", 1)
    me = emu.me()
    rc = 0
    for text in parsed[1]:
        jid = emu.JobId.parse(text)
        if jid is None:
            rc = emu.fail("qdel", f"illegally formed job identifier: {text}", 1)  # openpbs:src/cmds/qdel.c
            continue
        job = jobs.get(jid.full())
        if job is None:
            # openpbs:src/cmds/qdel.c process_deljobstat
            rc = emu.fail("qdel", f"Unknown Job Id {jid.full()}", emu.exit_code(emu.PBSE_UNKJOBID))
            continue
        attrs = job["attrs"]
        if str(attrs["Job_Owner"]).split("@")[0] != me:
            # openpbs:src/lib/Liblog/pbs_messages.c (PBSE_PERM)
            rc = emu.fail("qdel", f"Unauthorized Request  {jid.full()}", emu.exit_code(emu.PBSE_PERM))
        elif attrs["job_state"] == "F":
            # openpbs:src/lib/Liblog/pbs_messages.c (PBSE_HISTJOBID)
            rc = emu.fail("qdel", f"Job has finished {jid.full()}", emu.exit_code(emu.PBSE_HISTJOBID))
        elif attrs["job_state"] == "X":
            # openpbs:src/lib/Liblog/pbs_messages.c
            rc = emu.fail("qdel", f"Request invalid for finished array subjob {jid.full()}",
                          emu.exit_code(emu.PBSE_NOHISTARRAYSUBJOB))
        elif attrs["job_state"] == "E":
            # openpbs:src/lib/Liblog/pbs_messages.c (PBSE_BADSTATE)
            rc = emu.fail("qdel", f"Request invalid for state of job {jid.full()}",
                          emu.exit_code(emu.PBSE_BADSTATE))
        else:
            target = str(jid.seq) if not jid.index else f"{jid.seq}_{jid.index}"
            done = emu.slurm("scancel", target)
            if done.returncode != 0:
                rc = emu.fail("qdel", f"{done.stderr.strip()} {jid.full()}", 1)  # assumed: wording (README)
    return rc
