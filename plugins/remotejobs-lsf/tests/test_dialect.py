"""The pure LSF dialect against golden outputs (tests/golden/*.txt, each naming its origin)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from remotejobs_lsf import LsfDialect
from remotejobs_lsf._bjobs import parse_time
from remotejobs_lsf.dialect import format_runlimit, lsf_job_name

from remotejobs.errors import JobNotFoundError, SchedulerError, SubmissionError
from remotejobs.models import Dependency, JobSpec, JobState
from remotejobs.scheduler.dialect import ScriptContext
from remotejobs.transport.base import CommandResult

Golden = Callable[[str], CommandResult]
CTX = ScriptContext(job_dir="/h/.rj/jobs/j1", index_dir="/h/.rj/ids", workdir="/h/.rj/jobs/j1",
                    stdout="/h/.rj/jobs/j1/stdout", stderr="/h/.rj/jobs/j1/stderr", user="alice")
DELIMITED, JSON = LsfDialect(), LsfDialect(status_format="json")


def directives(spec: JobSpec, dialect: LsfDialect = DELIMITED) -> list[str]:
    return dialect.directives(spec, CTX)


# -- script and submit --------------------------------------------------------------
def test_directives_cover_every_option() -> None:
    spec = JobSpec(executable="/bin/true", name="fit", queue="short", nodes=2, processes_per_node=4,
                   walltime=timedelta(minutes=90, seconds=1), memory_mb=2048)
    dialect = LsfDialect(limit_unit="KB", resource_requirement="select[type==any]")
    assert directives(spec, dialect) == [
        "#BSUB -J fit", "#BSUB -q short", "#BSUB -n 8", "#BSUB -R 'span[ptile=4]'",
        "#BSUB -R 'select[type==any]'", "#BSUB -W 1:31", "#BSUB -M 2097152",
        "#BSUB -cwd /h/.rj/jobs/j1", "#BSUB -o /h/.rj/jobs/j1/stdout", "#BSUB -e /h/.rj/jobs/j1/stderr"]


@pytest.mark.parametrize(("unit", "expected"), [("KB", "1572864"), ("MB", "1536"), ("GB", "2")])
def test_memory_limit_in_the_sites_unit(unit: str, expected: str) -> None:
    dialect = LsfDialect(limit_unit=unit)  # type: ignore[arg-type]
    assert f"#BSUB -M {expected}" in directives(JobSpec(executable="x", memory_mb=1536), dialect)


def test_array_and_dependencies() -> None:
    spec = JobSpec(executable="x", name="a b", array="1-3,7",
                   depends_on=Dependency(condition="afternotok", job_ids=("12", "13[2]", "odd\"name")))
    lines = directives(spec)
    assert "#BSUB -J 'a b[1-3,7]'" in lines
    assert "#BSUB -o /h/.rj/jobs/j1/stdout-%I" in lines and "#BSUB -e /h/.rj/jobs/j1/stderr-%I" in lines
    assert "#BSUB -w 'exit(12) && exit(13[2]) && exit(\"oddname\")'" in lines
    for condition, word in (("afterok", "done"), ("afterany", "ended"), ("after", "started")):
        dep = JobSpec(executable="x", depends_on=Dependency(condition=condition, job_ids=("5", "6")))
        assert f"#BSUB -w '{word}(5) && {word}(6)'" in directives(dep)


def test_submit_is_bsub_with_the_script_on_stdin() -> None:
    spec = JobSpec(executable="/bin/echo", arguments=("x",), name="we ird; $(name)\n[1]")
    command = DELIMITED.submit_command(spec, CTX, "/h/.rj/jobs/j1/job.sh")
    assert command.argv == ("bsub", "-J", "we ird; $(name) (1)")
    assert command.stdin is not None and command.stdin.startswith("#!/bin/bash\n#BSUB -J ")
    assert "#BSUB -J 'we ird; $(name) (1)'" in command.stdin
    assert LsfDialect(bin_dir="/opt/lsf/bin/").submit_command(spec, CTX, "s").argv[0] == "/opt/lsf/bin/bsub"


@pytest.mark.parametrize(("env", "expected"), [
    ({"LSB_JOBID": "12", "LSB_JOBINDEX": "0"}, "12"),
    ({"LSB_JOBID": "12"}, "12"),
    ({"LSB_JOBID": "12", "LSB_JOBINDEX": "3"}, "12[3]"),
])
def test_job_id_expr_expands_to_the_reported_id(env: dict[str, str], expected: str) -> None:
    out = subprocess.run(["/bin/sh", "-c", f"__rj_id={LsfDialect.job_id_expr}; printf %s \"$__rj_id\""],
                         env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, check=True)
    assert out.stdout == expected


def test_helpers() -> None:
    assert lsf_job_name("a\tb[2]") == "a b(2)"
    assert [format_runlimit(timedelta(seconds=s)) for s in (1, 60, 61, 3600, 5430)] == ["1", "1", "2", "1:00", "1:31"]


@pytest.mark.parametrize(("name", "job_id"), [
    ("submit_default", "1348"), ("submit_queue", "1349"), ("reconstructed_submit_retry", "764255172"),
    ("reconstructed_submit_stderr_banner", "42")])
def test_parse_submit_banners(golden: Golden, name: str, job_id: str) -> None:
    assert DELIMITED.parse_submit(golden(name)) == job_id


@pytest.mark.parametrize(("name", "message"), [
    ("reconstructed_submit_no_queue", "nosuchq: No such queue. Job not submitted."),
    ("submit_dependency_missing", "done(987654): No matching job found. Job not submitted.")])
def test_parse_submit_refusals(golden: Golden, name: str, message: str) -> None:
    with pytest.raises(SubmissionError) as err:
        DELIMITED.parse_submit(golden(name))
    assert message in str(err.value) and err.value.transient is False


def test_parse_submit_lsf_down_is_transient(golden: Golden) -> None:
    with pytest.raises(SubmissionError) as err:
        DELIMITED.parse_submit(golden("reconstructed_submit_lsf_down"))
    assert err.value.transient is True


def test_parse_submit_garbage(golden: Golden) -> None:
    with pytest.raises(SchedulerError) as err:
        DELIMITED.parse_submit(golden("reconstructed_submit_garbage"))
    assert err.value.exit_status == 127 and "bsub: not found" in err.value.output and "bin_dir" in str(err.value)


# -- status ----------------------------------------------------------------------------
def test_every_state(golden: Golden) -> None:
    ids = [str(n) for n in range(1, 15)]
    infos = DELIMITED.parse_status(golden("reconstructed_bjobs_all_states"), ids)
    got = {i: (infos[i].state, infos[i].native_state, infos[i].exit_code) for i in ids}
    assert got == {
        "1": (JobState.QUEUED, "PEND", None), "2": (JobState.QUEUED, "PROV", None),
        "3": (JobState.HELD, "PSUSP", None), "4": (JobState.RUNNING, "RUN", None),
        "5": (JobState.SUSPENDED, "USUSP", None), "6": (JobState.SUSPENDED, "SSUSP", None),
        "7": (JobState.COMPLETED, "DONE", 0), "8": (JobState.FAILED, "EXIT", 3),
        "9": (JobState.UNKNOWN, "UNKWN", None), "10": (JobState.QUEUED, "WAIT", None),
        "11": (JobState.UNKNOWN, "ZOMBI", None), "12": (JobState.TIMEOUT, "EXIT", None),
        "13": (JobState.CANCELLED, "EXIT", None), "14": (JobState.COMPLETED, "DONE", 0)}
    assert infos["1"].reason == "New job is waiting for scheduling" and infos["1"].name == "pend job"
    assert infos["12"].reason == "TERM_RUNLIMIT: job killed after reaching LSF run time limit"
    assert "lost contact" in (infos["9"].reason or "")
    assert infos["14"].name == "a|b|c"  # job_name is last: the delimiter cannot shift columns
    assert infos["4"].end_time is None and infos["4"].start_time is not None  # " L" is an estimate
    assert infos["13"].end_time is not None and infos["13"].end_time.strftime("%b %d %H:%M") == "Feb 02 00:46"
    assert (infos["8"].queue, infos["8"].owner) == ("test", "alice")


def test_partial_not_found_keeps_the_others(golden: Golden) -> None:
    ids = ["764213236", "864220165", "764220165", "999"]
    infos = DELIMITED.parse_status(golden("reconstructed_bjobs_partial_not_found"), ids)
    assert sorted(infos) == ["764213236", "764220165"]
    assert infos["764213236"].state is JobState.TIMEOUT and infos["764220165"].reason is None


def test_emulator_delimited_and_json_agree(golden: Golden) -> None:
    ids = ["1348", "1349", "1350", "1351", "1352", "1353", "987654", "1354", "1354[2]"]
    text = DELIMITED.parse_status(golden("bjobs_delimited_emulator"), ids)
    assert text == JSON.parse_status(golden("bjobs_json_emulator"), ids)
    assert {k: (v.state, v.exit_code) for k, v in text.items()} == {
        "1348": (JobState.COMPLETED, 0), "1349": (JobState.FAILED, 3), "1350": (JobState.RUNNING, None),
        "1351": (JobState.HELD, None), "1352": (JobState.QUEUED, None), "1353": (JobState.CANCELLED, 143),
        "1354": (JobState.FAILED, 1), "1354[2]": (JobState.FAILED, 2)}
    assert text["1352"].reason == "Job dependency condition not satisfied"
    assert text["1354"].name == "golden-arr" and "job array of 3 elements: 3 FAILED" in (text["1354"].reason or "")


def test_json_records_with_error_entries(golden: Golden) -> None:
    infos = JSON.parse_status(golden("reconstructed_bjobs_json_records"), ["22005", "22006", "123"])
    assert sorted(infos) == ["22005", "22006"]
    done = infos["22005"]
    assert (done.state, done.exit_code, done.name) == (JobState.COMPLETED, 0, "ls -l /tmp")
    assert (infos["22006"].state, infos["22006"].exit_code) == (JobState.CANCELLED, 130)


@pytest.mark.parametrize(("dialect", "name"), [
    (DELIMITED, "bjobs_no_job_found"), (JSON, "reconstructed_bjobs_json_empty")])
def test_empty_results(golden: Golden, dialect: LsfDialect, name: str) -> None:
    assert dialect.parse_status(golden(name), ["1"]) == {}
    assert dialect.parse_jobs(golden(name), "nosuchuser") == []


@pytest.mark.parametrize(("dialect", "name"), [
    (DELIMITED, "reconstructed_bjobs_garbage_text"), (DELIMITED, "reconstructed_bjobs_garbage_fields"),
    (JSON, "reconstructed_bjobs_garbage_json"),
    (JSON, "reconstructed_bjobs_garbage_text")])
def test_garbage_is_a_clear_scheduler_error(golden: Golden, dialect: LsfDialect, name: str) -> None:
    with pytest.raises(SchedulerError) as err:
        dialect.parse_status(golden(name), ["1"])
    assert "bjobs" in str(err.value) and err.value.transient is False


def test_lsf_down_is_a_transient_scheduler_error(golden: Golden) -> None:
    with pytest.raises(SchedulerError) as err:
        DELIMITED.parse_status(golden("reconstructed_bjobs_lsf_down"), ["1"])
    assert err.value.transient is True and err.value.exit_status == 255


def test_jobs_lists_elements_and_array_aggregates(golden: Golden) -> None:
    infos = DELIMITED.parse_jobs(golden("bjobs_delimited_emulator"), "rjalice")
    assert [i.id for i in infos] == ["1348", "1349", "1350", "1351", "1352", "1353", "1354[1]", "1354[2]",
                                     "1354[3]", "1354"]
    assert DELIMITED.parse_jobs(golden("bjobs_delimited_emulator"), "bob") == []


def test_status_and_jobs_commands() -> None:
    fields = ("jobid jobindex stat user queue exit_code exit_reason pend_reason submit_time start_time "
              "finish_time job_name")
    assert DELIMITED.status_command(["1", "2[3]"]).argv == (
        "bjobs", "-a", "-o", f"{fields} delimiter='|'", "-noheader", "1", "2[3]")
    assert JSON.jobs_command("alice").argv == ("bjobs", "-a", "-o", fields, "-json", "-u", "alice")


def test_parse_time_rules() -> None:
    now = datetime(2026, 1, 2, 12, 0)
    assert parse_time("Dec 31 23:59 L", now) == datetime(2025, 12, 31, 23, 59)
    assert parse_time("Jan  2 07:39", now) == datetime(2026, 1, 2, 7, 39)
    assert parse_time("Feb 29 10:00 E", datetime(2026, 3, 1)) == datetime(2024, 2, 29, 10, 0)
    assert parse_time("-", now) is None and parse_time("", now) is None
    with pytest.raises(ValueError, match="not an LSF time"):
        parse_time("Foo 12 10:00", now)


def test_parse_time_with_seconds_year_and_suffixes() -> None:
    """Shapes of BatchEuphoria's LSF time grammar (LSFJobManager.groovy: "Jan  1 10:21 2010 L",
    its spec's "12:34:56 1000 L"), and IBM's X/L/E status letters (bjobs -WF page)."""
    now = datetime(2026, 1, 2, 12, 0)
    assert parse_time("Jan  1 10:21 2010 L", now) == datetime(2010, 1, 1, 10, 21)
    assert parse_time("Dec 28 19:56:45 2021", now) == datetime(2021, 12, 28, 19, 56, 45)
    assert parse_time("Jun 6 12:34:56 2025 L", now) == datetime(2025, 6, 6, 12, 34, 56)
    assert parse_time("Dec 31 23:59:07 X", now) == datetime(2025, 12, 31, 23, 59, 7)
    with pytest.raises(ValueError, match="not an LSF time"):
        parse_time("Feb 30 10:00 2021", now)


def test_an_odd_time_is_unknown_not_a_failed_query(golden: Golden) -> None:
    info = DELIMITED.parse_status(golden("reconstructed_bjobs_garbage_time"), ["1"])["1"]
    assert (info.state, info.exit_code, info.submit_time) == (JobState.COMPLETED, 0, None)


# -- cancel ----------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "job_id"), [("bkill_ok", "1353"), ("bkill_finished", "1348"),
                                              ("reconstructed_bkill_array_finished", "408347")])
def test_cancel_success_and_already_finished(golden: Golden, name: str, job_id: str) -> None:
    DELIMITED.parse_cancel(golden(name), job_id)  # returns: no exception for these outputs
    assert golden(name).exit_status in (0, 255)


def test_cancel_success_is_judged_for_the_asked_id(golden: Golden) -> None:
    """bkill confirming another job (or printing a usage text with exit 0) is no success."""
    with pytest.raises(SchedulerError):
        DELIMITED.parse_cancel(golden("bkill_ok"), "1")
    usage = CommandResult(argv=("bkill", "-h"), exit_status=0, stdout="Usage: bkill [-h] ...\n", stderr="")
    with pytest.raises(SchedulerError):
        DELIMITED.parse_cancel(usage, "1")


@pytest.mark.parametrize("name", ["bkill_nomatch", "reconstructed_bkill_permission"])
def test_cancel_unknown_or_foreign_job(golden: Golden, name: str) -> None:
    with pytest.raises(JobNotFoundError) as err:
        DELIMITED.parse_cancel(golden(name), "1350")
    assert err.value.job_id == "1350"


def test_cancel_failure_is_scheduler_error() -> None:
    result = CommandResult(argv=("bkill", "1"), exit_status=255, stdout="", stderr="bkill: odd failure\n")
    with pytest.raises(SchedulerError, match="bkill failed"):
        DELIMITED.parse_cancel(result, "1")
    assert DELIMITED.cancel_command("12[3]").argv == ("bkill", "12[3]")


def _bjobs(lines: list[str]) -> CommandResult:
    return CommandResult(argv=("bjobs",), exit_status=0, stdout="\n".join(lines) + "\n", stderr="")


def test_a_listing_converts_only_the_asked_records_and_checks_every_one() -> None:
    """A user's listing (bulk status): asked ids and the elements of asked arrays give the
    infos a parse of those records alone gives; a malformed record anywhere, asked or
    not, is still a SchedulerError."""
    line = "{id}|{index}|{stat}|rjalice|normal|{code}|-|-|Nov 22 03:48|{start}|{end}|job{id}"
    records = [line.format(id=100 + i, index=0, stat="RUN" if i % 2 else "EXIT", code="-" if i % 2 else "3",
                           start="Nov 22 03:48", end="-" if i % 2 else "Nov 22 03:49 L") for i in range(200)]
    records += [line.format(id=900, index=k, stat="DONE", code="-", start="Nov 22 03:48", end="Nov 22 03:50 L")
                for k in (1, 2, 3)]
    asked = ["101", "150", "900", "900[2]", "404"]
    got = DELIMITED.parse_status(_bjobs(records), asked)
    alone = [r for r in records if r.split("|")[0] in ("101", "150", "900")]
    assert got == DELIMITED.parse_status(_bjobs(alone), asked)
    assert set(got) == {"101", "150", "900", "900[2]"} and got["150"].exit_code == 3
    assert got["900"].reason == "job array of 3 elements: 3 COMPLETED" and got["900"].exit_code == 0
    for bad in ("12|x|RUN|u|q|-|-|-|-|-|-|n", "12|0|run|u|q|-|-|-|-|-|-|n", "12|\u00b2|RUN|u|q|-|-|-|-|-|-|n"):
        with pytest.raises(SchedulerError, match="unexpected record"):
            DELIMITED.parse_status(_bjobs([*records, bad]), ["101"])


def test_exit_codes_int_cannot_read_are_unknown_not_a_crash() -> None:
    line = "7|0|EXIT|rjalice|normal|{code}|-|-|Nov 22 03:48|Nov 22 03:48|Nov 22 03:49 L|j"
    for code, expected in (("--1", None), ("\u00b2", None), ("-1", -1), ("255", 255)):
        assert DELIMITED.parse_status(_bjobs([line.format(code=code)]), ["7"])["7"].exit_code == expected


def test_json_records_in_any_key_order_or_with_non_string_values_read_alike() -> None:
    """Records whose keys are the -o fields in order (what bjobs prints, the fast path),
    in another order, with a field missing, or with numbers for strings give the infos of
    the same records printed as strings in order; a bad id is still refused."""
    keys = ("JOBID", "JOBINDEX", "STAT", "USER", "QUEUE", "EXIT_CODE", "EXIT_REASON", "PEND_REASON",
            "SUBMIT_TIME", "START_TIME", "FINISH_TIME", "JOB_NAME")
    rows = [("31", "0", "EXIT", "rjalice", "normal", "3", "", "", "Nov 22 03:48", "Nov 22 03:48", "Nov 22 03:49 L",
             "a"),
            ("32", "2", "DONE", "rjalice", "normal", "", "", "", "Nov 22 03:48", "Nov 22 03:48", "Nov 22 03:49 L",
             "b[2]"),
            ("33", "0", "PEND", "rjalice", "normal", "", "", "New job is waiting", "Nov 22 03:48", "", "", "c")]
    plain: list[dict[str, object]] = [dict(zip(keys, row, strict=True)) for row in rows]
    odd: list[dict[str, object]] = [{**plain[0], "EXIT_CODE": 3, "JOBID": 31}, {**plain[1], "JOBINDEX": 2},
                                    dict(reversed(list(plain[2].items())))]
    del odd[1]["EXIT_REASON"]

    def answer(records: list[dict[str, object]]) -> CommandResult:
        return CommandResult(argv=("bjobs",), exit_status=0, stdout=json.dumps({"RECORDS": records}), stderr="")

    ids = ["31", "32", "32[2]", "33"]
    expected = JSON.parse_status(answer(plain), ids)
    assert JSON.parse_status(answer(odd), ids) == expected
    assert (expected["31"].exit_code, expected["32[2]"].state, expected["33"].reason) == (
        3, JobState.COMPLETED, "New job is waiting")
    for bad in ({**plain[0], "JOBID": "x1"}, {**plain[0], "JOBINDEX": "²"}, {**plain[0], "STAT": "run"}):
        with pytest.raises(SchedulerError, match="unexpected record"):
            JSON.parse_status(answer([bad]), ["31"])
