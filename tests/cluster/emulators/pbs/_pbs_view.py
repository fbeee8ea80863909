"""PBS emulator: the jobs the server shows, and qstat's three output formats.

Formats (openpbs:src/cmds/qstat.c ``display_statjob``, ``prt_attr``):

- default table: header ``Job id            Name             User              Time Use S
  Queue`` and a dashed line; columns ``%-17s %-16s %-16s  %8s %1s %-16s``; the id cut to
  its first server-name part; names of 16+ characters cut to 15 plus ``*``;
- ``-f``: ``Job Id: <id>``, then ``    name[.resource] = value`` lines, long values wrapped
  at 78 characters after a comma or mid-token on TAB-led lines (``CHAR_LINE_LIMIT``,
  ``-w`` disables it), a blank line after each job; time attributes (ctime, etime, mtime,
  qtime, stime, obittime) as ``ctime()`` text;
- ``-F json``: one document ``{"timestamp", "pbs_version", "pbs_server", "Jobs"}``,
  ``name.resource`` nested, Variable_List an object, numbers unquoted, ``Job_Name`` always
  a string; printed in the layout of the PBS 19.0.0 captures in
  plugins/remotejobs-pbs/tests/golden/real (four-space indent, ``"key":value``); the
  ``Jobs`` key is absent when no job is shown (baw-server's PBS 22.05.11 capture).

Attribute names and order follow the captures (buildtest/swrap 19.0.0, AiiDA 12).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from typing import Any

import _pbs_emu as emu

LINE_LIMIT = 78
# A record younger than this that Slurm does not list was submitted after our squeue
# snapshot (Slurm keeps finished jobs MinJobAge = 300 s, and the record is written first).
YOUNG = 600
TIME_ATTRS = ("ctime", "etime", "mtime", "qtime", "stime", "obittime", "Execution_Time")


def _hms(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _attrs(job: dict[str, Any], rec: dict[str, Any], jid: emu.JobId, fin: dict[str, Any]) -> dict[str, Any]:
    """One job's attributes in the captures' order; times are epoch ints here."""
    now = int(time.time())
    state = fin.get("state") or emu.pbs_state(job)
    start = int(fin.get("start") or job.get("start_time") or 0)
    end = int(fin.get("end") or job.get("end_time") or 0) if state == "F" else 0
    submit = int(rec.get("ctime") or now)
    host = emu.server_name()
    queue = str(rec.get("queue") or emu.DEFAULT_QUEUE)
    attrs: dict[str, Any] = {"Job_Name": rec["name"], "Job_Owner": rec["owner"]}
    if start:
        attrs.update({"resources_used.cpupercent": 0, "resources_used.cput": "00:00:00",
                      "resources_used.mem": "0kb", "resources_used.ncpus": rec["ncpus"],
                      "resources_used.vmem": "0kb",
                      "resources_used.walltime": _hms((end or now) - start)})
    if jid.index == "" and state == "R":
        state = "B"
    attrs.update({"job_state": "X" if state == "F" and jid.index else state, "queue": queue,
                  "server": host, "Checkpoint": "u", "ctime": submit})
    if rec.get("depend"):
        attrs["depend"] = rec["depend"]
    attrs["Error_Path"] = f"{host}:{rec['error_path']}"
    if start:
        attrs["exec_host"] = f"{host}/0"
        attrs["exec_vnode"] = f"({host}:ncpus={rec['ncpus']})"
    attrs.update({"Hold_Types": ("u" if rec.get("hold") else "s") if state == "H" else "n",
                  "Join_Path": rec.get("join", "n"), "Keep_Files": "n",
                  "Mail_Points": rec.get("mail_points") or "a", "mtime": end or start or submit,
                  "Output_Path": f"{host}:{rec['output_path']}", "Priority": rec.get("priority") or 0,
                  "qtime": submit, "Rerunable": "True"})
    # Site attributes (names: openpbs src/include/pbs_ifl.h ATTR_A, ATTR_a, ATTR_M,
    # max_run_subjobs; doc/man1/pbs_job_attributes.7B).
    if rec.get("account"):
        attrs["Account_Name"] = rec["account"]
    if rec.get("execution_time"):
        attrs["Execution_Time"] = rec["execution_time"]
    if rec.get("mail_users"):
        attrs["Mail_Users"] = rec["mail_users"]
    if rec.get("max_run_subjobs") and jid.index == "":
        attrs["max_run_subjobs"] = rec["max_run_subjobs"]
    for name, value in rec["resources"].items():
        attrs[f"Resource_List.{name}"] = value
    if start:
        attrs["stime"] = start
        attrs["session_id"] = int(job.get("job_id") or 0) % 32768 + 1000
        attrs["jobdir"] = rec["home"]
    attrs["substate"] = {"Q": 10, "H": 20, "W": 30, "R": 42, "B": 42, "E": 50, "S": 43, "F": 92}.get(state, 10)
    attrs["Variable_List"] = rec["variables"] + (f",PBS_ARRAY_INDEX={jid.index}" if jid.index else "")
    if start:
        verb = "and finished" if state == "F" else ""  # openpbs:src/server/svr_jobfunc.c
        attrs["comment"] = f"Job run at {time.strftime('%a %b %d at %H:%M', time.localtime(start))} " \
                           f"on ({host}:ncpus={rec['ncpus']}) {verb}".rstrip()
    attrs["etime"] = submit
    if start:
        attrs["run_count"] = 1
    if state == "F" and fin.get("exit_status") is not None:
        attrs["Exit_status"] = fin["exit_status"]
    attrs["Submit_arguments"] = rec["submit_args"]
    if rec.get("array"):
        attrs["array"] = "True" if jid.index == "" else None
        attrs["array_id" if jid.index else "array_indices_submitted"] = (
            f"{jid.seq}[].{host}" if jid.index else rec["array"])
        if jid.index:
            attrs["array_index"] = int(jid.index)
    attrs["project"] = "_pbs_project_default"
    if state == "F" and end:
        attrs["obittime"] = end  # [assumed position]
    return {k: v for k, v in attrs.items() if v is not None}


def _final_of(job: dict[str, Any]) -> dict[str, Any]:
    return {"state": "F", "exit_status": emu.pbs_exit(job), "start": job.get("start_time"),
            "end": job.get("end_time") or int(time.time())}


def collect() -> list[dict[str, Any]]:
    """The jobs this server knows: ``{"id", "seq", "index", "attrs"}`` dicts in id order,
    finished ones (F, X) only while job history keeps them (qstat shows those with -x)."""
    by_seq: dict[int, list[tuple[emu.JobId, dict[str, Any]]]] = {}
    for job in emu.slurm_jobs():
        seq = int(job.get("array_job_id") or 0) or int(job["job_id"])
        task = job.get("array_task_id")
        index = None if task is None or not job.get("array_job_id") else str(task)
        if index is None and job.get("array_task_string"):
            index = f"pending:{job['array_task_string']}"
        by_seq.setdefault(seq, []).append((emu.JobId(seq, index), job))
    seqs = set(by_seq)
    with contextlib.suppress(OSError):
        seqs |= {int(n.split(".")[0]) for n in os.listdir(os.path.join(emu.SPOOL, "jobs"))
                 if n.endswith(".json") and n.split(".")[0].isdigit()}
    keep = emu.history_duration()
    views: list[dict[str, Any]] = []
    for seq in sorted(seqs):
        rec = emu.load_record(seq)
        if rec is None:
            continue
        finals: dict[str, Any] = rec.setdefault("final", {})
        dirty = False
        elements = []
        for jid, job in by_seq.get(seq, []):
            if emu.pbs_state(job) == "F" and (jid.index or "") not in finals:
                finals[jid.index or ""] = _final_of(job)
                dirty = True
            elements.append((jid, job, finals.get(jid.index or "", {})))
        known = {jid.index or "" for jid, _, _ in elements}
        elements += [(emu.JobId(seq, k or None), {}, f) for k, f in finals.items() if k not in known]
        young = time.time() - int(rec.get("ctime") or 0) < YOUNG
        if not elements and young:
            # submitted after the squeue snapshot above: queued, not forgotten
            index = "pending:" + str(rec["array"]) if rec.get("array") else None
            reason = "Dependency" if rec.get("depend") else ("JobHeldUser" if rec.get("hold") else "None")
            elements.append((emu.JobId(seq, index), {"job_state": "PENDING", "job_id": seq,
                                                     "state_reason": reason}, {}))
        mine = str(rec["owner"]).split("@")[0] == emu.me()
        if dirty and mine:
            emu.save_record(rec)
        shown = _views_for(rec, seq, elements)
        kept = [v for v in shown if v["attrs"]["job_state"] not in ("F", "X") or (
            keep is not None and time.time() - int(v["attrs"].get("obittime") or 0) < keep)]
        if not kept and seq not in by_seq and mine and not young:
            with contextlib.suppress(OSError):
                os.unlink(emu.record_path(seq))  # purged from history: gone for good
        views.extend(kept)
    return views


def _views_for(rec: dict[str, Any], seq: int, elements: list[Any]) -> list[dict[str, Any]]:
    real = [e for e in elements if not str(e[0].index).startswith("pending:")]
    pending = [e for e in elements if str(e[0].index).startswith("pending:")]
    if not rec.get("array"):
        return [{"id": jid.full(), "seq": seq, "index": None, "attrs": _attrs(job, rec, jid, fin)}
                for jid, job, fin in real]
    children = [{"id": jid.full(), "seq": seq, "index": jid.index, "attrs": _attrs(job, rec, jid, fin)}
                for jid, job, fin in real]
    for _, job, _ in pending:  # subjobs Slurm has not started: queued (or held)
        first, last = (int(x) for x in rec["array"].split(":")[0].split("-"))
        step = int(rec["array"].split(":")[1]) if ":" in rec["array"] else 1
        have = {c["index"] for c in children}
        for index in range(first, last + 1, step):
            if str(index) not in have:
                jid = emu.JobId(seq, str(index))
                children.append({"id": jid.full(), "seq": seq, "index": str(index),
                                 "attrs": _attrs(job, rec, jid, {})})
    children.sort(key=lambda c: int(c["index"]))
    parent_id = emu.JobId(seq, "")
    states = [c["attrs"]["job_state"] for c in children]
    fin: dict[str, Any] = {}
    if states and all(s == "X" for s in states):
        codes = [c["attrs"].get("Exit_status", 0) for c in children]
        # openpbs:src/server/array_func.c: the parent's Exit_status is 1 if a subjob's was
        # > 0, 2 if < 0, else 0 (set at each subjob's end; the last one wins)
        last = codes[-1]
        fin = {"state": "F", "exit_status": 1 if last > 0 else (2 if last < 0 else 0),
               "start": min(int(c["attrs"].get("stime", 0)) for c in children),
               "end": max(int(c["attrs"].get("obittime", 0)) for c in children)}
    base = next((job for _, job, _ in pending), {}) or {"start_time": 0}
    attrs = _attrs({**base, "job_state": "RUNNING" if any(s in "RE" for s in states) else "PENDING"},
                   rec, parent_id, fin)
    return [{"id": parent_id.full(), "seq": seq, "index": "", "attrs": attrs}, *children]


# --------------------------------------------------------------------------- formats


def _value(name: str, value: Any) -> str:
    return time.ctime(int(value)) if name in TIME_ATTRS else str(value)


def table(views: list[dict[str, Any]]) -> str:
    lines = ["Job id            Name             User              Time Use S Queue",
             "----------------  ---------------- ----------------  -------- - -----"]
    for view in views:
        attrs = view["attrs"]
        jid = view["id"] if len(view["id"]) <= 17 else view["id"][:16] + "*"
        name = str(attrs["Job_Name"])
        name = name[:15] + "*" if len(name) >= 16 else name
        user = str(attrs["Job_Owner"]).split("@")[0][:16]
        used = str(attrs.get("resources_used.cput", "0"))
        lines.append(f"{jid:<17s} {name:<16s} {user:<16s}  {used:>8s} {attrs['job_state']} "
                     f"{attrs['queue']:<16s}".rstrip())
    return "\n".join(lines) + "\n"


def _wrap(prefix: str, value: str) -> str:
    """prt_attr: tokens split at commas; one that does not fit starts a TAB-led line;
    one longer than a line is broken mid-token."""
    out, start = [prefix], len(prefix)
    tokens = [t for t in value.split(",") if t]  # strtok() skips empty tokens
    for number, token in enumerate(tokens):
        if len(token) + start < LINE_LIMIT:
            out.append(token)
            start += len(token)
        else:
            if number:
                out.append("\n\t")
                start = 9
            for char in token:
                out.append(char)
                start += 1
                if start > LINE_LIMIT:
                    start = 8
                    out.append("\n\t")
        if number + 1 < len(tokens):
            out.append(",")  # qstat.c: putchar(','), not counted in start
    return "".join(out)


def full(views: list[dict[str, Any]], wide: bool) -> str:
    blocks = []
    for view in views:
        lines = [f"Job Id: {view['id']}"]
        for name, value in view["attrs"].items():
            prefix = f"    {name} = "
            text = _value(name, value)
            lines.append(prefix + text if wide else _wrap(prefix, text))
        blocks.append("\n".join(lines) + "\n\n")
    return "".join(blocks)


def _json_value(name: str, value: Any) -> Any:
    if name in TIME_ATTRS:
        return time.ctime(int(value))
    if name in ("Job_Name", "project", "Account_Name"):
        return str(value)  # qstat.c batch_item_json_type_triage: always strings
    if isinstance(value, int):
        return value
    try:
        return json.loads(value) if isinstance(value, str) and value[:1].isdigit() else value
    except ValueError:
        return value


def as_json(views: list[dict[str, Any]]) -> str:
    doc: dict[str, Any] = {"timestamp": int(time.time()), "pbs_version": "19.0.0",
                           "pbs_server": emu.server_name()}
    if views:
        jobs: dict[str, Any] = {}
        for view in views:
            job: dict[str, Any] = {}
            for name, value in view["attrs"].items():
                head, _, resource = name.partition(".")
                if resource:
                    job.setdefault(head, {})[resource] = _json_value(resource, value)
                elif name == "Variable_List":
                    # qstat.c prt_attr: split at commas not escaped by "\\", then at the first "="
                    pairs = (p.replace("\\,", ",").partition("=")
                             for p in re.split(r"(?<!\\),", str(value)) if p)
                    job[name] = {k: _json_value(k, v) for k, _, v in pairs}
                else:
                    job[name] = _json_value(name, value)
            jobs[view["id"]] = job
        doc["Jobs"] = jobs
    return _dump(doc, 0) + "\n"


def _dump(value: Any, level: int) -> str:
    """The 19.0.0 layout: four spaces per level, ``"key":value``, one item per line."""
    if not isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    pad = "    " * (level + 1)
    items = [f'{pad}{json.dumps(k, ensure_ascii=False)}:{_dump(v, level + 1)}' for k, v in value.items()]
    return "{\n" + ",\n".join(items) + "\n" + "    " * level + "}"
