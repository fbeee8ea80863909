"""Torque emulator: the jobs the server shows and their three output formats.

Formats follow Torque's ``src/cmds/qstat.c`` (github.com/adaptivecomputing/torque; real outputs and
each format's source in README.md "Sources"):

- default table: ``Job ID`` column 25 wide, Name 16 (longer names shown as ``...`` +
  tail), User 15, ``Time Use`` 8 right-aligned (``0`` when no cput), state letter, queue;
- ``-f``: ``Job Id: <id>``, attributes indented by 4 spaces as ``name[.resource] = value``,
  long values wrapped at 77 columns after a comma or mid-token with TAB-led continuation
  lines (Torque ``qstat.c`` ``prt_attr``), ``-1`` disables wrapping; ctime()-style times;
  a blank line after each job;
- ``-x``: ``<?xml version="1.0"?>`` then the whole ``<Data><Job>...</Job></Data>``
  document on one line, resources nested (``<Resource_List><nodes>``), epoch times.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any
from xml.sax.saxutils import escape

import _torque_emu as emu

LINESIZE = 77
_TIME_ATTRS = ("ctime", "etime", "mtime", "qtime", "start_time", "comp_time")


def _hms(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _element_attrs(job: dict[str, Any], rec: dict[str, Any], jid: emu.JobId,
                   fin: dict[str, Any]) -> dict[str, Any]:
    """The job's Torque attributes in Torque's order; time values are epoch ints."""
    now = int(time.time())
    state, exit_status = fin.get("state") or emu.torque_state(job), fin.get("exit_status")
    start = int(fin.get("start") or job.get("start_time") or 0)
    end = int(fin.get("end") or job.get("end_time") or 0) if state == "C" else 0
    submit = int(rec.get("ctime") or job.get("submit_time") or now)
    queue = str(fin.get("queue") or job.get("partition") or rec.get("queue") or "")
    user = str(rec["owner"]).split("@")[0]
    host = emu.server_name()
    attrs: dict[str, Any] = {"Job_Name": rec["name"], "Job_Owner": rec["owner"]}
    if rec.get("account"):  # Account_Name: ATTR_A of torque src/include/pbs_ifl.h
        attrs["Account_Name"] = rec["account"]
    if start:
        attrs["resources_used.cput"] = "00:00:00"
        attrs["resources_used.mem"] = "0kb"
        attrs["resources_used.vmem"] = "0kb"
        attrs["resources_used.walltime"] = _hms((end or now) - start)
    attrs.update({"job_state": state, "queue": queue, "server": host, "Checkpoint": "u",
                  "ctime": submit})
    if rec.get("depend"):
        attrs["depend"] = rec["depend"]
    attrs["Error_Path"] = f"{host}:{rec['error_path']}"
    if start:
        attrs["exec_host"] = f"{job.get('nodes') or host}/0"
    attrs.update({
        "Hold_Types": "u" if state == "H" and rec.get("hold") else ("s" if state == "H" else "n"),
        "Join_Path": rec.get("join", "n"), "Keep_Files": "n", "Mail_Points": rec.get("mail_points") or "a",
        "mtime": end or start or submit, "Output_Path": f"{host}:{rec['output_path']}",
        "Priority": rec.get("priority") or 0, "qtime": submit, "Rerunable": "True",
    })
    if rec.get("mail_users"):
        attrs["Mail_Users"] = rec["mail_users"]
    if rec.get("node_exclusive"):  # "node_exclusive = True" (qsub.1.in, -n)
        attrs["node_exclusive"] = "True"
    for key, value in rec.get("resources", {}).items():
        attrs[f"Resource_List.{key}"] = value
    attrs["Resource_List.nodect"] = rec.get("nodect", 1)
    if start:
        attrs["session_id"] = int(job.get("job_id") or 0) % 32768 + 1000
    attrs["Variable_List"] = rec["variables"] + (
        f",PBS_ARRAYID={jid.index}" if jid.index else "")
    attrs.update({"euser": user, "egroup": rec.get("group", user), "queue_type": "E",
                  "etime": submit})
    if exit_status is not None and state == "C":
        attrs["exit_status"] = exit_status
    attrs["submit_args"] = rec["submit_args"]
    if start:
        attrs["start_time"] = start
        attrs["start_count"] = 1
    if end:
        attrs["comp_time"] = end
    if rec.get("array"):
        attrs["job_array_request"] = rec["array"]
        if jid.index:
            attrs["job_array_id"] = int(jid.index)
    attrs.update({"fault_tolerant": "False", "job_radix": 0, "submit_host": host,
                  "init_work_dir": rec["workdir"], "request_version": 1})
    return attrs


def _final_of(job: dict[str, Any]) -> dict[str, Any]:
    return {"state": "C", "exit_status": emu.torque_exit(job), "start": job.get("start_time"),
            "end": job.get("end_time") or int(time.time()), "queue": job.get("partition")}


def collect(expand_arrays: bool) -> list[dict[str, Any]]:
    """The jobs this server shows now: ``{"id", "seq", "index", "attrs"}`` dicts in id
    order. Jobs not submitted through this emulator, and completed jobs older than
    keep_completed, are not shown."""
    # The spool is listed BEFORE Slurm is asked: qsub writes a record only after sbatch
    # returned, so every record listed here belongs to a job that the snapshot below
    # includes unless Slurm has really forgotten it. (Listed after the snapshot, a record
    # of a job submitted in between looked forgotten and was purged: the job vanished.)
    recorded: set[int] = set()
    with contextlib.suppress(OSError):
        recorded = {int(n.split(".")[0]) for n in os.listdir(os.path.join(emu.SPOOL, "jobs"))
                    if n.endswith(".json") and n.split(".")[0].isdigit()}
    by_seq: dict[int, list[tuple[emu.JobId, dict[str, Any]]]] = {}
    for job in emu.slurm_jobs():
        seq = int(job.get("array_job_id") or 0) or int(job["job_id"])
        task = job.get("array_task_id")
        index = None if task is None or not job.get("array_job_id") else str(task)
        if index is None and job.get("array_task_string"):
            index = f"pending:{job['array_task_string']}"
        by_seq.setdefault(seq, []).append((emu.JobId(seq, index), job))
    seqs = set(by_seq) | recorded
    views: list[dict[str, Any]] = []
    me = emu.me()
    for seq in sorted(seqs):
        rec = emu.load_record(seq)
        if rec is None:
            continue
        finals: dict[str, Any] = rec.setdefault("final", {})
        dirty = False
        elements: list[tuple[emu.JobId, dict[str, Any], dict[str, Any]]] = []
        for jid, job in by_seq.get(seq, []):
            key = jid.index or ""
            if emu.torque_state(job) == "C" and key not in finals:
                finals[key] = _final_of(job)
                dirty = True
            elements.append((jid, job, finals.get(key, {})))
        known = {jid.index or "" for jid, _, _ in elements}
        for key, fin in finals.items():  # completions Slurm has already forgotten
            if key not in known:
                elements.append((emu.JobId(seq, key or None), {}, fin))
        if dirty and str(rec["owner"]).split("@")[0] == me:
            emu.save_record(rec)
        shown = _views_for(rec, seq, elements, expand_arrays)
        if not shown and seq not in by_seq and seq in recorded and str(rec["owner"]).split("@")[0] == me:
            # purged (past keep_completed, and Slurm has forgotten it too): gone for good
            with contextlib.suppress(OSError):
                os.unlink(emu.record_path(seq))
        views.extend(shown)
    return views


def _visible(attrs: dict[str, Any], queue: str) -> bool:
    if attrs["job_state"] != "C":
        return True
    end = int(attrs.get("comp_time") or attrs.get("mtime") or 0)
    return time.time() - end < emu.keep_completed(queue)


def _views_for(rec: dict[str, Any], seq: int, elements: list[tuple[emu.JobId, dict[str, Any],
               dict[str, Any]]], expand: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    real = [(jid, job, fin) for jid, job, fin in elements if not str(jid.index).startswith("pending:")]
    pending = [e for e in elements if str(e[0].index).startswith("pending:")]
    if not rec.get("array"):
        for jid, job, fin in real:
            attrs = _element_attrs(job, rec, jid, fin)
            if _visible(attrs, str(attrs["queue"])):
                out.append({"id": jid.full(), "seq": seq, "index": None, "attrs": attrs})
        return out
    children: list[dict[str, Any]] = []
    for jid, job, fin in real:
        attrs = _element_attrs(job, rec, jid, fin)
        if _visible(attrs, str(attrs["queue"])):
            children.append({"id": jid.full(), "seq": seq, "index": jid.index, "attrs": attrs})
    if not children and not pending:
        return out
    parent_id = emu.JobId(seq, "")
    base = pending[0][1] if pending else (elements[0][1] if elements else {})
    attrs = _element_attrs(base, rec, parent_id, {})
    states = [c["attrs"]["job_state"] for c in children] + ["Q" for _ in pending]
    for letter in ("R", "E", "H", "Q", "S"):
        if letter in states:
            attrs["job_state"] = letter
            break
    else:
        attrs["job_state"] = "C"
        codes = [int(c["attrs"].get("exit_status", 0)) for c in children]
        # [emulator choice] parent summary: 0 when every element exited 0, else the first
        # non-zero element status.
        attrs["exit_status"] = next((c for c in codes if c != 0), 0)
        attrs["comp_time"] = max(int(c["attrs"].get("comp_time", 0)) for c in children)
    out.append({"id": parent_id.full(), "seq": seq, "index": "", "attrs": attrs})
    if expand:
        out.extend(sorted(children, key=lambda c: int(c["index"])))
    return out


# --------------------------------------------------------------------------- formats


def table(views: list[dict[str, Any]]) -> str:
    lines = [f"{'Job ID':<25} {'Name':<16} {'User':<15} {'Time Use':>8} S Queue",
             f"{'-' * 25} {'-' * 16} {'-' * 15} {'-' * 8} - -----"]
    for view in views:
        attrs = view["attrs"]
        name = str(attrs["Job_Name"])
        if len(name) > 16:
            name = "..." + name[-13:]
        user = str(attrs["Job_Owner"]).split("@")[0][:15]
        used = attrs.get("resources_used.cput", "0")
        lines.append(f"{view['id']:<25} {name:<16} {user:<15} {used:>8} "
                     f"{attrs['job_state']} {str(attrs['queue'])[:15]}")
    return "\n".join(lines) + "\n"


def _wrap(prefix: str, value: str) -> str:
    """Torque qstat.c prt_attr: split at commas; a token that does not fit starts a TAB-led
    continuation line; a token longer than the line is broken mid-token."""
    out = [prefix]
    start = len(prefix)
    tokens = [t for t in value.split(",") if t]  # strtok() skips empty tokens
    for number, token in enumerate(tokens):
        if len(token) + start < LINESIZE:
            out.append(token)
            start += len(token)
        else:
            if number:
                out.append("\n\t")
                start = 9
            for char in token:
                out.append(char)
                start += 1
                if start > LINESIZE:
                    start = 8
                    out.append("\n\t")
        if number + 1 < len(tokens):
            out.append(",")
    return "".join(out)


def full(views: list[dict[str, Any]], one_line: bool) -> str:
    blocks = []
    for view in views:
        lines = [f"Job Id: {view['id']}"]
        for name, value in view["attrs"].items():
            text = time.ctime(int(value)) if name in _TIME_ATTRS else str(value)
            prefix = f"    {name} = "
            lines.append(prefix + text if one_line else _wrap(prefix, text))
        blocks.append("\n".join(lines) + "\n\n")
    return "".join(blocks)


def xml(views: list[dict[str, Any]]) -> str:
    parts = ["<Data>"]
    for view in views:
        parts.append(f"<Job><Job_Id>{escape(view['id'])}</Job_Id>")
        groups: dict[str, list[str]] = {}
        order: list[str] = []
        for name, value in view["attrs"].items():
            head, _, sub = name.partition(".")
            if sub:
                if head not in groups:
                    groups[head] = []
                    order.append(head)
                groups[head].append(f"<{sub}>{escape(str(value))}</{sub}>")
            else:
                order.append(name)
                groups[name] = [escape(str(value))]
        for name in order:
            inner = "".join(groups[name])
            parts.append(f"<{name}>{inner}</{name}>")
        parts.append("</Job>")
    parts.append("</Data>")
    return '<?xml version="1.0"?>\n' + "".join(parts) + "\n"
