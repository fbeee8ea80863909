"""The Torque parsers on every verbatim real output in golden/real/ (provenance: SOURCES.md),
and ``qstat -f`` text with values that hold newlines (issue 11: wrapped/multi-line values)."""

from __future__ import annotations

from pathlib import Path

import pytest
from remotejobs_torque._qstat_text import parse_full
from remotejobs_torque._qstat_xml import parse_xml
from remotejobs_torque.dialect import TorqueDialect

from remotejobs.models import JobState
from remotejobs.transport.base import CommandResult

REAL = Path(__file__).parent / "golden" / "real"
DIALECT = TorqueDialect()


def _result(name: str) -> CommandResult:
    return CommandResult(argv=("qstat", "-f"), exit_status=0, stdout=(REAL / name).read_text(), stderr="")


def _jobs(name: str) -> list[dict[str, str]]:
    text = (REAL / name).read_text()
    return parse_xml(text) if name.endswith(".xml") else parse_full(text)


def test_every_real_output_is_listed_in_sources_and_parsed() -> None:
    files = sorted(p.name for p in REAL.iterdir() if p.name != "SOURCES.md")
    sources = (REAL / "SOURCES.md").read_text()
    assert len(files) == 4 and all(f"`{name}`" in sources for name in files)
    for name in files:
        ids = [job["Job_Id"] for job in _jobs(name)]
        assert ids and sorted(DIALECT.parse_status(_result(name), ids)) == sorted(ids), name


@pytest.mark.parametrize(("name", "job_id", "state", "exit_code"), [
    ("batcheuphoria_qstat_f_output1.txt", "14973441.tbi-pbs-ng.inet.dkfz-heidelberg.de", JobState.COMPLETED, 0),
    ("batcheuphoria_qstat_f_output1.txt", "14973792.tbi-pbs-ng.inet.dkfz-heidelberg.de", JobState.QUEUED, None),
    ("batcheuphoria_qstat_f_output1.txt", "14973766.tbi-pbs-ng.inet.dkfz-heidelberg.de", JobState.RUNNING, None),
    ("batcheuphoria_qstat_f_output1.txt", "14973745.tbi-pbs-ng.inet.dkfz-heidelberg.de", JobState.HELD, None),
    ("batcheuphoria_qstat_x_queued.xml", "4499334.pbsserver", JobState.QUEUED, None),
    ("batcheuphoria_qstat_x_finished.xml", "4564045.pbsserver", JobState.COMPLETED, 0),
])
def test_real_states(name: str, job_id: str, state: JobState, exit_code: int | None) -> None:
    info = DIALECT.parse_status(_result(name), [job_id])[job_id]
    assert (info.state, info.exit_code) == (state, exit_code)


def test_real_wrapped_values_are_joined() -> None:
    job = _jobs("batcheuphoria_qstat_f_output1.txt")[0]
    assert job["Error_Path"].endswith("/r170623_063520503_A056-XQH5TD_createControlBafPlots.e14973441")
    assert "createControlBafPlots.sh,PARAMETER_FILE=/icgc/" in job["submit_args"]
    assert "\t" not in job["submit_args"] and "\n" not in job["submit_args"]


def prt_attr(name: str, resource: str | None, value: str, linesize: int = 77) -> str:
    """Python port of Torque's ``prt_attr`` (adaptivecomputing/torque, src/cmds/qstat.c,
    ``linesize = 77``): tokens split at commas (strtok skips empty ones), a token that does not
    fit starts a ``"\\n\\t"`` line, long tokens are cut every ``linesize`` columns; the value's
    own bytes, newlines included, are printed as they are."""
    out = f"    {name}"
    start = len(name) + 7
    if resource is not None:
        start += len(resource) + 1
        out += f".{resource}"
    out += " = "
    tokens = [t for t in value.split(",") if t]
    for index, token in enumerate(tokens):
        if len(token) + start < linesize:
            out += token
            start += len(token)
        else:
            if index:
                out += "\n\t"
                start = 9
            for char in token:
                out += char
                start += 1
                if start > linesize:
                    start = 8
                    out += "\n\t"
        if index + 1 < len(tokens):
            out += ","
    return out


def test_values_with_newlines_as_torque_prints_them() -> None:
    """The real finished job (XML answer of a Torque server) printed as ``qstat -f`` text by
    Torque's own algorithm: its ``sched_hint`` holds newlines and a blank line, so lines at
    column 0 and an empty line appear inside the job block. The text parser must give back
    the same values as the XML parser, and the job must not be split or the query fail."""
    xml_job = _jobs("batcheuphoria_qstat_x_finished.xml")[0]
    assert "\n\n" in xml_job["sched_hint"]
    lines = [f"Job Id: {xml_job['Job_Id']}"]
    for key, value in xml_job.items():
        if key in ("Job_Id", "_layout"):
            continue
        name, _, resource = key.partition(".")
        lines.append(prt_attr(name, resource or None, value))
    text = "\n".join(lines) + "\n\nJob Id: 2.pbsserver\n    job_state = Q\n\n"
    jobs = parse_full(text)
    assert [j["Job_Id"] for j in jobs] == ["4564045.pbsserver", "2.pbsserver"]
    for key in ("sched_hint", "Variable_List", "submit_args", "exit_status", "job_state", "Error_Path"):
        assert jobs[0][key] == xml_job[key], key
    infos = DIALECT.parse_status(CommandResult(argv=("qstat",), exit_status=0, stdout=text, stderr=""),
                                 ["4564045.pbsserver", "2.pbsserver"])
    assert infos["4564045.pbsserver"].state is JobState.COMPLETED and infos["2.pbsserver"].state is JobState.QUEUED
