"""Parser for Torque's ``qstat -f -x`` XML (torque ``src/cmds/qstat.c``;
real documents in BatchEuphoria's tests, tests/golden/real/SOURCES.md).

The document is ``<?xml version="1.0"?>`` then ``<Data><Job>...</Job>...</Data>`` on one
line; ``name.resource`` attributes are nested (``<Resource_List><walltime>``) and time
attributes are epoch seconds. Unknown ids only add stderr lines, so the stdout may hold
an empty ``<Data/>`` or nothing at all.
"""

from __future__ import annotations

import re

from remotejobs.safexml import UnsafeXMLError, fromstring
from remotejobs_torque._qstat_text import MALFORMED

__all__ = ["parse_xml"]

# Characters XML 1.0 cannot carry (https://www.w3.org/TR/xml/#charsets). qstat prints job
# names verbatim, so another user's name with one of them would make the whole listing
# not well-formed (every user's jobs() failing); they can only be inside text, where
# U+FFFD replaces them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def parse_xml(text: str, keep: frozenset[str] | None = None) -> list[dict[str, str]]:
    """Jobs as flat ``{"Job_Id": id, "Resource_List.walltime": ..., ...}`` dicts; with
    ``keep``, only those attributes (and ``Job_Id``, ``job_state``), which spares building
    dicts of ~40 attributes per job when a status needs a dozen.

    A ``Job`` without ``Job_Id`` or ``job_state`` is kept with a ``_malformed`` reason
    (it may be another user's; the caller decides), never failing the whole document.

    :raises ValueError: not well-formed XML, a DTD (see :mod:`remotejobs.safexml`), or a
        root other than ``Data``.
    """
    body = _NOT_XML.sub("\ufffd", text.strip())
    if not body:
        return []
    try:
        root = fromstring(body)  # a DTD (entity expansion) is refused
    except UnsafeXMLError as exc:
        raise ValueError(str(exc)) from exc
    if root.tag != "Data":
        raise ValueError(f"XML root is <{root.tag}>, expected <Data>")
    jobs = []
    wanted = None if keep is None else keep | {"Job_Id", "job_state"}
    parents = None if wanted is None else {name.split(".", 1)[0] for name in wanted if "." in name}
    for element in root:
        if element.tag != "Job":
            raise ValueError(f"unexpected element <{element.tag}> in <Data>")
        job: dict[str, str] = {"_layout": "xml"}
        for attribute in element:
            tag = attribute.tag
            if len(attribute):
                if parents is not None and tag not in parents:
                    continue
                for child in attribute:
                    name = f"{tag}.{child.tag}"
                    if wanted is None or name in wanted:
                        job[name] = (child.text or "").strip()
            elif wanted is None or tag in wanted:
                job[tag] = (attribute.text or "").strip()
        if not job.get("Job_Id") or "job_state" not in job:
            job.setdefault("Job_Id", "")
            job[MALFORMED] = "a <Job> lacks Job_Id or job_state"
        jobs.append(job)
    return jobs
