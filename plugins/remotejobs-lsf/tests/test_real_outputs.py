"""The LSF parser on every verbatim real output in golden/real/ (provenance: golden/real/SOURCES.md)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from remotejobs_lsf import LsfDialect

from remotejobs.models import JobState
from remotejobs.transport.base import CommandResult

REAL = Path(__file__).parent / "golden" / "real"
JSON = LsfDialect(status_format="json")


def _result(name: str) -> CommandResult:
    return CommandResult(argv=("bjobs", "-a", "-json"), exit_status=0, stdout=(REAL / name).read_text(), stderr="")


def test_every_real_output_is_listed_in_sources_and_parsed() -> None:
    files = sorted(p.name for p in REAL.iterdir() if p.name != "SOURCES.md")
    sources = (REAL / "SOURCES.md").read_text()
    assert files and all(f"`{name}`" in sources for name in files)
    for name in (f for f in files if f.endswith(".json")):
        records = json.loads((REAL / name).read_text())["RECORDS"]
        ids = [r["JOBID"] for r in records]
        infos = JSON.parse_status(_result(name), ids)
        assert sorted(infos) == sorted(ids), name


def test_batcheuphoria_done_job() -> None:
    info = JSON.parse_status(_result("batcheuphoria_queryExtendedJobStateByIdTest.json"), ["22005"])["22005"]
    assert (info.state, info.exit_code, info.name, info.queue, info.owner) == (
        JobState.COMPLETED, 0, "ls -l", "short-dmg", "otptest")
    assert info.end_time is not None and (info.end_time.month, info.end_time.day, info.end_time.hour) == (12, 28, 19)


def test_batcheuphoria_done_with_an_exit_code_trusts_stat() -> None:
    """This fixture says STAT DONE with EXIT_CODE "1"; LSF defines DONE as exit 0 (bjobs
    states), so the state word wins and the job is COMPLETED with exit code 0."""
    info = JSON.parse_status(_result("batcheuphoria_queryExtendedJobStateByIdWithoutListsTest.json"), ["22005"])
    assert (info["22005"].state, info["22005"].exit_code) == (JobState.COMPLETED, 0)


@pytest.mark.parametrize(("job_id", "state"), [("487641", JobState.FAILED), ("491867", JobState.COMPLETED)])
def test_batcheuphoria_finish_times_with_padded_day_and_suffix(job_id: str, state: JobState) -> None:
    info = JSON.parse_status(_result("batcheuphoria_convertBJobsResultLinesToResultMapTest.json"), [job_id])[job_id]
    assert info.state is state and isinstance(info.end_time, datetime) and info.end_time.month == 1


def test_a_real_record_with_a_year_in_its_times() -> None:
    """The BatchEuphoria record with the year BatchEuphoria's parser accepts ("Jan  1 10:21 2010 L",
    LSFJobManager.groovy): the one documented variation of a real output, the rest verbatim."""
    text = (REAL / "batcheuphoria_queryExtendedJobStateByIdTest.json").read_text()
    text = text.replace('"Dec 28 19:56 L"', '"Dec 28 19:56:45 2021 L"')
    result = CommandResult(argv=("bjobs",), exit_status=0, stdout=text, stderr="")
    info = JSON.parse_status(result, ["22005"])["22005"]
    assert info.end_time == datetime(2021, 12, 28, 19, 56, 45) and info.state is JobState.COMPLETED


def test_nextflow_bsub_answer() -> None:
    result = CommandResult(argv=("bsub",), exit_status=0, stdout=(REAL / "nextflow_bsub_answer.txt").read_text(),
                           stderr="")
    assert LsfDialect().parse_submit(result) == "2329803"


@pytest.mark.parametrize("name", ["ibm_doc_bjobs_not_found_stderr.txt", "ibm_doc_bjobs_no_unfinished_stderr.txt"])
@pytest.mark.parametrize("dialect", [LsfDialect(), JSON])
def test_ibm_documented_empty_answers_are_empty_results(name: str, dialect: LsfDialect) -> None:
    result = CommandResult(argv=("bjobs",), exit_status=255, stdout="", stderr=(REAL / name).read_text())
    assert dialect.parse_status(result, ["123"]) == {}
