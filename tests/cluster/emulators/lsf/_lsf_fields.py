"""LSF emulator: the ``bjobs -o`` fields (IBM bjobs.1 "Custom format").

Each field maps a :class:`_lsf_emu.View` to its text ("" when empty: bjobs prints ``-``
in text and ``""`` in JSON). Names are case-insensitive; aliases from IBM bjobs.1. Default
column widths: assumed (IBM bjobs.1 gives a width to some fields only; README.md "Assumed").
"""

from __future__ import annotations

import os
import pwd
import time
from collections.abc import Callable

import _lsf_emu as emu

View = emu.View

ALIASES = {"id": "jobid", "name": "job_name", "cmd": "command", "ugroup": "user_group",
           "proj": "proj_name", "project": "proj_name", "group": "job_group",
           "description": "job_description", "user_name": "user", "pre_cmd": "pre_exec_command",
           "post_cmd": "post_exec_command"}


def _started(v: View) -> bool:
    return v.start is not None and v.stat not in ("PEND", "PSUSP")


def _job_name(v: View) -> str:
    return str(v.job.rec["name"]) + (f"[{v.idx}]" if v.job.is_array else "")


def _exit_code(v: View) -> str:
    return "" if v.stat != "EXIT" or v.exit_code is None else str(v.exit_code)


def _hosts(v: View, sep: str = ":") -> str:
    return sep.join([v.host] * int(v.job.rec.get("slots", 1))) if _started(v) and v.host else ""


def _limit(v: View) -> float | None:
    minutes = v.job.rec.get("runlimit_min")
    return float(minutes) * 60 if minutes else None


def _finish(v: View) -> str:
    if v.final:
        return emu.lsf_time(v.finish, " L")
    limit = _limit(v)
    if v.stat in ("RUN", "USUSP", "SSUSP") and v.start and limit:
        return emu.lsf_time(v.start + limit, " L")  # run-limit estimate (IBM bjobs.1)
    return ""


def _time_left(v: View) -> str:
    limit = _limit(v)
    if v.stat != "RUN" or not v.start or not limit:
        return ""
    left = max(0, int(v.start + limit - time.time()))
    return f"{left // 3600}:{left % 3600 // 60:02d} L"


def _complete(v: View) -> str:
    limit = _limit(v)
    if v.stat != "RUN" or not v.start or not limit:
        return ""
    return f"{min(100.0, (time.time() - v.start) * 100 / limit):.2f}% L"


def _run_time(v: View) -> str:
    if not _started(v) or v.start is None:
        return "0 second(s)"
    return f"{int((v.finish or time.time()) - v.start)} second(s)"


def _pend_time(v: View) -> str:
    submitted = float(v.job.rec["submit_time"])
    return f"{int((v.start or v.finish or time.time()) - submitted)} second(s)"


def _home(v: View) -> str:
    try:
        return pwd.getpwnam(v.job.user).pw_dir if _started(v) else ""
    except KeyError:
        return ""


def _exec_cwd(v: View) -> str:
    if not _started(v):
        return ""
    cwd = (v.job.rec.get("exec_cwd") or v.job.rec["cwd"]).replace("%J", str(v.job.id))
    cwd = cwd.replace("%I", str(v.idx))
    return cwd if os.path.isdir(cwd) else "/tmp"


def _memlimit(v: View) -> str:
    kb = v.job.rec.get("memlimit_kb")
    return "" if not kb else f"{kb / 1024:g} M"


def _runtimelimit(v: View) -> str:
    limit = _limit(v)
    return f"{limit / 60:.1f}" if limit else ""


def _slots(v: View) -> str:
    return str(v.job.rec.get("slots", 1)) if _started(v) else ""


def _req(v: View) -> str:
    return str(v.job.rec.get("slots", 1))


def _rec(key: str) -> Callable[[View], str]:
    return lambda v: str(v.job.rec.get(key) or "")


FIELDS: dict[str, tuple[int, Callable[[View], str]]] = {
    "jobid": (7, lambda v: str(v.job.id)),
    "jobindex": (8, lambda v: str(v.idx)),
    "stat": (5, lambda v: v.stat),
    "user": (7, lambda v: v.job.user),
    "user_group": (15, lambda v: ""),
    "queue": (10, lambda v: str(v.job.rec["queue"])),
    "job_group": (10, lambda v: ""),
    "proj_name": (11, lambda v: str(v.job.rec.get("project") or "default")),
    "job_description": (17, lambda v: ""),
    "job_name": (10, _job_name),
    "first_host": (11, lambda v: v.host if _started(v) else ""),
    "exec_host": (11, _hosts),
    "nexec_host": (10, lambda v: "1" if _started(v) else ""),
    "alloc_slot": (20, lambda v: f"{v.job.rec.get('slots', 1)}*{v.host}" if _started(v) else ""),
    "nalloc_slot": (10, _slots),
    "slots": (5, _slots),
    "command": (15, _rec("command")),
    "pre_exec_command": (16, lambda v: ""),
    "post_exec_command": (17, lambda v: ""),
    "pids": (20, lambda v: str(v.pid) if v.stat == "RUN" and v.pid else ""),
    "exit_code": (10, _exit_code),
    "exit_reason": (50, lambda v: v.exit_reason),
    "kill_reason": (50, lambda v: ""),
    "suspend_reason": (50, lambda v: ""),
    "pend_reason": (11, lambda v: v.pend_reason if v.stat in ("PEND", "PSUSP") else ""),
    "dependency": (15, _rec("dependency")),
    "from_host": (11, _rec("from_host")),
    "submit_time": (15, lambda v: emu.lsf_time(v.job.rec["submit_time"])),
    "start_time": (15, lambda v: emu.lsf_time(v.start) if _started(v) else ""),
    "finish_time": (16, _finish),
    "time_left": (11, _time_left),
    "%complete": (11, _complete),
    "run_time": (15, _run_time),
    "cpu_used": (10, lambda v: ""),
    "pend_time": (12, _pend_time),
    "mem": (15, lambda v: ""),
    "max_mem": (15, lambda v: ""),
    "avg_mem": (15, lambda v: ""),
    "swap": (15, lambda v: ""),
    "memlimit": (10, _memlimit),
    "runtimelimit": (12, _runtimelimit),
    "min_req_proc": (12, _req),
    "max_req_proc": (12, _req),
    "nreq_slot": (10, _req),
    "effective_resreq": (17, lambda v: str(v.job.rec.get("resreq") or "select[type == local] order[r15s:pg] ")),
    "input_file": (10, lambda v: ""),
    "output_file": (11, _rec("output")),
    "error_file": (10, _rec("error")),
    "sub_cwd": (10, _rec("cwd")),
    "exec_cwd": (10, _exec_cwd),
    "exec_home": (10, _home),
}


def canonical(name: str) -> str | None:
    """The canonical field name for ``name`` (case-insensitive, aliases), or None."""
    key = name.lower()
    key = ALIASES.get(key, key)
    return key if key in FIELDS else None


def value(field: str, view: View) -> str:
    return FIELDS[field][1](view).replace("\n", " ")


def header(field: str) -> str:
    return field.upper()


def width(field: str) -> int:
    return FIELDS[field][0]
