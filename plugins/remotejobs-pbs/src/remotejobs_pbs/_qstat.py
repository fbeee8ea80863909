"""Parsers for ``qstat -f`` output of PBS Professional / OpenPBS: ``-F json`` and text.

JSON (OpenPBS ``src/cmds/qstat.c`` ``display_statjob``/``prt_attr`` and
``src/lib/Libjson``): one document ``{"timestamp": N, "pbs_version": "...", "pbs_server":
"...", "Jobs": {"<id>": {...}}}``; ``name.resource`` attributes become nested objects
(``"Resource_List": {"walltime": "00:01:00"}``), ``Variable_List`` an object, values that
parse as JSON numbers are numbers (``"Exit_status": 0``); the ``Jobs`` key is absent when
no job was shown (tests/golden/real: ``baw_server_*``). Real documents are in
``tests/golden/real`` (PBS 19.0.0 layout, four-space indent).

Text (same functions, ``FORMAT_DEFAULT``): ``Job Id: <id>``, attributes as
``    name[.resource] = value``, long values wrapped with TAB-led continuation lines (joined
without a separator: PBS breaks after a comma or mid-token), a blank line after each job.
A value wrapped exactly at the line end leaves an empty continuation, seen as a blank line
inside a job (AiiDA's PBS Pro 12 capture, job 74164), so only ``Job Id:`` starts a job.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["parse_json", "parse_text"]

_HEADER = "Job Id:"
_ABSENT = object()
_ATTRIBUTE = re.compile(r"^    ([A-Za-z_][\w.-]*) =(?: (.*))?$")


def _flatten(job_id: str, attrs: dict[str, Any], keep: frozenset[str] | None) -> dict[str, str]:
    flat = {"Job_Id": job_id}
    if keep is not None:  # only what the caller reads: ~a dozen of ~50 attributes
        for name in keep:
            top, dot, resource = name.partition(".")
            value = attrs.get(top, _ABSENT)
            if dot:
                value = value.get(resource, _ABSENT) if isinstance(value, dict) and top != "Variable_List" else _ABSENT
            elif isinstance(value, dict):
                continue
            if value is not _ABSENT:
                flat[name] = value if type(value) is str else _text(value)
        return flat
    for name, value in attrs.items():
        if isinstance(value, dict) and name != "Variable_List":
            for resource, inner in value.items():
                flat[f"{name}.{resource}"] = _text(inner)
        elif not isinstance(value, dict):
            flat[name] = _text(value)
    return flat


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else json.dumps(value)


def parse_json(text: str, keep: frozenset[str] | None = None) -> list[dict[str, str]]:
    """Jobs as flat ``{"Job_Id": id, "Resource_List.walltime": ..., ...}`` dicts; with
    ``keep``, only those attributes (and ``job_state``).

    :raises ValueError: not a JSON object, ``Jobs`` not an object, or a job without
        ``job_state``.
    """
    body = text.strip()
    if not body:
        return []
    try:
        document = json.loads(body, strict=False)  # control characters inside values
    except (ValueError, RecursionError) as exc:  # RecursionError: hostile nesting
        raise ValueError(f"not valid JSON: {type(exc).__name__}: {str(exc)[:200]}") from exc
    if not isinstance(document, dict):
        raise ValueError("the JSON document is not an object")
    jobs = document.get("Jobs", {})
    if not isinstance(jobs, dict):
        raise ValueError("'Jobs' is not an object")
    out = []
    for job_id, attrs in jobs.items():
        if not isinstance(attrs, dict) or "job_state" not in attrs:
            raise ValueError(f"job {job_id} has no job_state")
        out.append(_flatten(job_id, attrs, None if keep is None else keep | {"job_state"}))
    return out


def parse_text(text: str) -> list[dict[str, str]]:
    """Jobs of ``qstat -f`` text as flat dicts (``Job_Id`` plus each attribute).

    :raises ValueError: a line outside a job, a line that is neither an attribute nor a
        continuation, or a job without ``job_state``.
    """
    jobs: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    last: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if line.startswith(_HEADER):
            job_id = line[len(_HEADER):].strip()
            if not job_id:
                raise ValueError(f"line {number}: job header without an id")
            current, last = {"Job_Id": job_id}, None
            jobs.append(current)
            continue
        if current is None:
            raise ValueError(f"line {number}: text outside a job block: {line[:80]!r}")
        if line.startswith("\t"):
            if last is None:
                raise ValueError(f"line {number}: continuation line before any attribute")
            current[last] += line[1:]
            continue
        attribute = _ATTRIBUTE.match(line)
        if attribute:
            last = attribute.group(1)
            current[last] = attribute.group(2) or ""
            continue
        raise ValueError(f"line {number}: not a qstat -f attribute line: {line[:80]!r}")
    for job in jobs:
        if "job_state" not in job:
            raise ValueError(f"job {job['Job_Id']} has no job_state")
    return jobs
