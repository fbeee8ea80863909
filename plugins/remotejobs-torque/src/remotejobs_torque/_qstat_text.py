"""Parser for ``qstat -f`` text, tolerant of both servers' layouts.

Facts (github.com/adaptivecomputing/torque ``src/cmds/qstat.c`` ``prt_attr``; SchedMD/slurm
``contribs/torque/qstat.pl``; real outputs in tests/golden/real/): real Torque prints ``Job Id: <id>`` with one
space, attributes indented by 4 spaces as ``name[.resource] = value``, wraps long values
(at a comma or mid-token) onto continuation lines that start with a TAB, and ends each
job with a blank line. Slurm's torque wrapper puts a TAB after ``Job Id:`` and
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

Hostile values (issue 10): Slurm's wrapper (``print_job_full`` in ``slurm-wlm-torque``
22.05.8 ``qstat``) prints ``Job_Name`` verbatim, so another user's job name can hold any
line, whole forged records included. Lines are split at ``\n`` only (``str.splitlines``
also splits at ``\x1c``, ``\x85``, ``\u2028`` ... inside a name). A record that cannot be
read (no id, a continuation before any attribute, an attribute given twice, no
``job_state``) is kept with a ``_malformed`` reason instead of failing the whole output:
it may be another user's. Forged records cannot be told apart here: callers trust only
records they asked for by id, and ignore an id that two records claim (see the dialect).
"""

from __future__ import annotations

__all__ = ["MALFORMED", "parse_full"]

_HEADER = "Job Id:"
#: Key set on a record that could not be read (its value says why).
MALFORMED = "_malformed"


def _lines(text: str) -> list[str]:
    """The lines of ``text``, split at ``\\n`` only (module doc), without a final ``\\r``."""
    lines = text.split("\n")
    return [line.removesuffix("\r") for line in lines] if "\r" in text else lines


def parse_full(text: str) -> list[dict[str, str]]:
    """Jobs as ``{"Job_Id": id, "<attribute>": value, ...}`` dicts in output order, plus
    ``"_layout": "tab"|"space"`` and, for a record that cannot be read, ``"_malformed"``.

    :raises ValueError: text before the first job header (this is not ``qstat -f``).
    """
    jobs: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    last: str | None = None
    blanks = 0  # blank lines seen since the last non-blank line of the current block
    # Per-block facts kept in locals (this loop runs for every line of 100,000s of jobs).
    tab_layout = broken = False  # broken: MALFORMED in current
    for number, line in enumerate(_lines(text), start=1):
        if not line or line.isspace():  # as "not line.strip()"
            blanks += 1
            continue
        first = line[0]
        if first == "J" and line.startswith(_HEADER):
            rest = line[len(_HEADER):]
            tab_layout = rest.startswith("\t")
            current = {"Job_Id": rest.strip(), "_layout": "tab" if tab_layout else "space"}
            broken = not current["Job_Id"]
            if broken:
                current[MALFORMED] = f"line {number}: job header without an id"
            jobs.append(current)
            last, blanks = None, 0
            continue
        if current is None:
            raise ValueError(f"line {number}: text outside a job block: {line[:80]!r}")
        if broken:
            continue
        if first == "\t" and not (tab_layout and " = " in line):
            if last is None:
                current[MALFORMED] = f"line {number}: continuation line before any attribute"
                broken = True
                continue
            current[last] += "\n" * blanks + line[1:]
            blanks = 0
            continue
        if (first == "\t" or line.startswith("    ")) and " = " in line:
            name, _, value = line.strip().partition(" = ")
            if name in current:
                current[MALFORMED] = f"line {number}: attribute {name!r} given twice"
                broken = True
                continue
            current[name] = value
            last, blanks = name, 0
            broken = name == MALFORMED  # a (hostile) attribute named like the marker
            continue
        if last is None:
            current[MALFORMED] = f"line {number}: not a qstat -f attribute line: {line[:80]!r}"
            broken = True
            continue
        current[last] += "\n" * (blanks + 1) + line  # a newline inside the value (module doc)
        blanks = 0
    for job in jobs:
        if MALFORMED not in job and "job_state" not in job:
            job[MALFORMED] = f"job {job['Job_Id'][:80]!r} has no job_state"
    return jobs
