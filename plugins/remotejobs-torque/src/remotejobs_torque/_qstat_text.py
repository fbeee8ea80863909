"""Parser for ``qstat -f`` text, tolerant of both servers' layouts.

Facts (``scheduler-cli-formats.md``): real Torque (2.2) prints ``Job Id: <id>`` with one
space, attributes indented by 4 spaces as ``name[.resource] = value``, wraps long values
(at a comma or mid-token) onto continuation lines that start with a TAB, and ends each
job with a blank line. Slurm's torque wrapper (3.2) puts a TAB after ``Job Id:`` and
indents attributes with a TAB, never wraps, and omits most attributes.

So a TAB-led line is an attribute only in the TAB layout and only when it holds
``" = "``; otherwise it continues the previous value (joined without a separator, since
Torque breaks after a comma or inside a token).

Values may hold newlines of their own: Torque's ``prt_attr`` (adaptivecomputing/torque,
src/cmds/qstat.c) prints the value bytes as they are and only inserts ``"\n\t"`` when it
wraps, so a value such as the real ``sched_hint`` ``Post job file processing error; ...
\n\nUnable to copy file ...\n*** error from copy\n...`` (a Torque server's answer,
github.com/TheRoddyWMS/BatchEuphoria PBSJobManagerSpec.groovy ``outputFinished``) goes on
with lines at column 0, and even blank lines, inside the job block. A line that is neither
a header, an attribute nor a TAB continuation therefore continues the previous value after
a newline (blank lines kept); a blank line ends a job only where the next job starts.
"""

from __future__ import annotations

__all__ = ["parse_full"]

_HEADER = "Job Id:"


def parse_full(text: str) -> list[dict[str, str]]:
    """Jobs as ``{"Job_Id": id, "<attribute>": value, ...}`` dicts in output order, plus
    ``"_layout": "tab"|"space"``.

    :raises ValueError: a line that is neither a header, an attribute, a continuation nor
        blank; or a job block without ``job_state``.
    """
    jobs: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    last: str | None = None
    blanks = 0  # blank lines seen since the last non-blank line of the current block
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            blanks += 1
            continue
        if line.startswith(_HEADER):
            rest = line[len(_HEADER):]
            job_id = rest.strip()
            if not job_id:
                raise ValueError(f"line {number}: job header without an id")
            current = {"Job_Id": job_id, "_layout": "tab" if rest.startswith("\t") else "space"}
            jobs.append(current)
            last, blanks = None, 0
            continue
        if current is None:
            raise ValueError(f"line {number}: text outside a job block: {line[:80]!r}")
        tab_layout = current["_layout"] == "tab"
        if line.startswith("\t") and not (tab_layout and " = " in line):
            if last is None:
                raise ValueError(f"line {number}: continuation line before any attribute")
            current[last] += "\n" * blanks + line[1:]
            blanks = 0
            continue
        if (line.startswith("    ") or line.startswith("\t")) and " = " in line:
            name, _, value = line.strip().partition(" = ")
            current[name] = value
            last, blanks = name, 0
            continue
        if last is None:
            raise ValueError(f"line {number}: not a qstat -f attribute line: {line[:80]!r}")
        current[last] += "\n" * (blanks + 1) + line  # a newline inside the value (module doc)
        blanks = 0
    for job in jobs:
        if "job_state" not in job:
            raise ValueError(f"job {job['Job_Id']} has no job_state")
    return jobs
