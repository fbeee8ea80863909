"""The pure PBS dialect: commands, id grammar, states, emulator captures (tests/golden).

Real PBS outputs are tested in test_real_outputs.py; the ``emulator_*`` files here were
captured from the test cluster's PBS emulator (their ``origin`` header says so).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from remotejobs_pbs._ids import array_of, is_job_id, key
from remotejobs_pbs._states import info_from_attrs, needs_marker, resolve
from remotejobs_pbs.dialect import PbsDialect, job_name

from remotejobs.errors import InvalidJobSpecError, JobNotFoundError, SchedulerError, SubmissionError
from remotejobs.models import Dependency, JobSpec, JobState
from remotejobs.scheduler.dialect import ScriptContext
from remotejobs.testing.golden import load_golden
from remotejobs.transport.base import CommandResult

GOLDEN = Path(__file__).parent / "golden"
CTX = ScriptContext(job_dir="/home/a/.rj/jobs/x", index_dir="/home/a/.rj/ids", workdir="/home/a/w",
                    stdout="/home/a/.rj/jobs/x/stdout", stderr="/home/a/.rj/jobs/x/stderr", user="a")


def result(stdout: str = "", stderr: str = "", status: int = 0, argv: tuple[str, ...] = ("qstat",)
           ) -> CommandResult:
    return CommandResult(argv=argv, exit_status=status, stdout=stdout, stderr=stderr)


@pytest.fixture
def dialect() -> PbsDialect:
    return PbsDialect(bin_dir="/opt/pbs/bin")


# -- ids ----------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["123", "123.server", "123[].pbs-1.example.org", "123[4].srv",
                                  "12860476.meta-pbs.metacentrum.cz"])
def test_ids_of_the_grammar(text: str) -> None:
    assert is_job_id(text)


@pytest.mark.parametrize("text", ["", "abc", "R123.srv", "123[1-4].srv", "1; touch x", "123 ",
                                  "-1", "123.srv/../x", "123..", "123[].", "1\n2", "123\n", "$(id)", "--help"])
def test_other_strings_never_reach_a_command(dialect: PbsDialect, text: str) -> None:
    assert not is_job_id(text)
    with pytest.raises(JobNotFoundError, match="not a PBS job id"):
        dialect.cancel_command(text)
    with pytest.raises(JobNotFoundError):
        dialect.status_command(["1.srv", text])


def test_id_keys() -> None:
    assert [key(i) for i in ("12.srv.example", "12[].srv", "12[3].srv", "12")] == ["12", "12[]", "12[3]", "12"]
    assert array_of("12[3].srv") == "12[]" and array_of("12[].srv") is None and array_of("12") is None


# -- submit -------------------------------------------------------------------------------
def test_submit_command_carries_every_option(dialect: PbsDialect) -> None:
    spec = JobSpec(executable="/bin/true", name="we ird; $(x)", queue="short", nodes=2,
                   processes_per_node=4, walltime=timedelta(hours=1, seconds=1), memory_mb=1025,
                   array="1-4", depends_on=Dependency(condition="afterany", job_ids=("12.srv", "13[].srv")))
    argv = dialect.submit_command(spec, CTX, "/home/a/.rj/jobs/x/job.sh").argv
    assert argv == ("/opt/pbs/bin/qsub", "-N", "we_ird____x_", "-q", "short",
                    "-l", "select=2:ncpus=4:mpiprocs=4:mem=1025mb", "-l", "place=scatter",
                    "-l", "walltime=01:00:01", "-J", "1-4", "-W", "depend=afterany:12.srv:13[].srv",
                    "-o", CTX.stdout, "-e", CTX.stderr, "/home/a/.rj/jobs/x/job.sh")
    script = dialect.render_script(spec, CTX)
    assert "#PBS -N we_ird____x_\n#PBS -q short\n#PBS -l select=2:ncpus=4" in script
    assert '__rj_id="${PBS_JOBID:-unknown}"' in script and "#PBS -o" not in script


def test_joined_streams_and_refused_values(dialect: PbsDialect) -> None:
    joined = ScriptContext(**{**CTX.__dict__, "stderr": CTX.stdout})
    argv = dialect.submit_command(JobSpec(executable="x"), joined, "/s.sh").argv
    assert argv[-4:] == ("-o", CTX.stdout, "-j", "oe", "/s.sh")[-4:] or "-j" in argv
    assert "-e" not in argv and argv[argv.index("-j") + 1] == "oe"
    for bad in ("/home/a/x:y", "relative/path"):
        with pytest.raises(InvalidJobSpecError, match="stdout path"):
            dialect.submit_command(JobSpec(executable="x"), ScriptContext(**{**CTX.__dict__, "stdout": bad}), "/s")
    with pytest.raises(InvalidJobSpecError, match="queue"):
        dialect.submit_command(JobSpec(executable="x", queue="a b"), CTX, "/s.sh")
    for array in ("1,3", "5", "4-2"):
        with pytest.raises(InvalidJobSpecError, match="one range"):
            dialect.submit_command(JobSpec(executable="x", array=array), CTX, "/s.sh")
    with pytest.raises(InvalidJobSpecError, match="Not PBS job ids"):
        dialect.submit_command(JobSpec(executable="x", depends_on=Dependency(job_ids=("1;x",))), CTX, "/s")


def test_job_name() -> None:
    assert job_name(None) == "remotejobs" and job_name("1st") == "j1st" and len(job_name("a" * 99)) == 64


@pytest.mark.parametrize("printed", ["1234.pbs-server.example.org", "1234[].server", "7"])
def test_parse_submit(dialect: PbsDialect, printed: str) -> None:
    assert dialect.parse_submit(result(f"{printed}\n", argv=("qsub",))) == printed


def test_parse_submit_errors(dialect: PbsDialect) -> None:
    # message texts: openpbs src/lib/Liblog/pbs_messages.c; format: qsub.c "qsub: %s\n"
    with pytest.raises(SubmissionError, match="Unknown queue") as err:
        dialect.parse_submit(result(stderr="qsub: Unknown queue\n", status=170))
    assert not err.value.transient
    with pytest.raises(SubmissionError) as err:
        dialect.parse_submit(result(stderr="qsub: cannot connect to server pbs (errno=15010)\n", status=1))
    assert err.value.transient
    with pytest.raises(SchedulerError, match="no PBS job id"):
        dialect.parse_submit(result("Job <1> is submitted to queue <normal>.\n"))


# -- status -------------------------------------------------------------------------------
def test_status_command_forms(dialect: PbsDialect) -> None:
    assert dialect.status_command(["1.s", "2[].s"]).argv == (
        "/opt/pbs/bin/qstat", "-f", "-F", "json", "-x", "-t", "1.s", "2[].s")
    assert PbsDialect(status_format="text").status_command(["1"]).argv == ("qstat", "-f", "-x", "-t", "1")
    old = result(stderr="qstat: invalid option -- 'F'\nusage: ...", status=2)
    json, text = dialect.status_probes()
    assert (json.name, text.name) == ("qstat-json", "qstat-f")
    assert json.is_unavailable(old) and not json.is_unavailable(result(status=153))
    assert not text.is_unavailable(old)
    assert [p.name for p in PbsDialect(status_format="json").status_probes()] == ["qstat-json"]
    assert json.list_command is not None and json.list_command("a").argv[-3:] == ("json", "-x", "-t")


def test_emulator_array_in_json_aggregates_its_subjobs(dialect: PbsDialect) -> None:
    capture = load_golden(GOLDEN, "emulator_qstat_json_array")
    ids = ["164[].vm", "164[2].vm"]
    jobs, arrays = dialect.status_parts(capture, ids)
    assert [i.id for i in arrays["164[].vm"]] == ["164[1].vm", "164[2].vm", "164[3].vm"]
    assert all((i.state, i.exit_code, i.native_state) == (JobState.FAILED, 3, "X") for i in arrays["164[].vm"])
    assert jobs["164[2].vm"].state is JobState.FAILED
    aggregate = dialect.parse_status(capture, ids)["164[].vm"]
    assert (aggregate.state, aggregate.exit_code) == (JobState.FAILED, 3)
    assert "3 FAILED" in (aggregate.reason or "")


def test_emulator_finished_text_and_unknown_id(dialect: PbsDialect) -> None:
    capture = load_golden(GOLDEN, "emulator_qstat_text_finished")
    infos = dialect.parse_status(capture, ["163.vm", "999.vm"])
    assert set(infos) == {"163.vm"}
    done = infos["163.vm"]
    assert (done.state, done.exit_code, done.native_state, done.queue) == (JobState.FAILED, 3, "F", "workq")
    assert done.end_time is not None and done.start_time is not None


def test_a_finished_job_asked_without_history_is_not_an_error(dialect: PbsDialect) -> None:
    assert dialect.parse_status(load_golden(GOLDEN, "emulator_qstat_no_history"), ["163.vm"]) == {}


ATTRS = {"job_state": "F", "Resource_List.walltime": "00:01:00", "resources_used.walltime": "00:00:05"}


@pytest.mark.parametrize(("exit_status", "state", "code"), [
    ("0", JobState.COMPLETED, 0), ("3", JobState.FAILED, 3), ("-29", JobState.TIMEOUT, None),
    ("-27", JobState.FAILED, None), ("271", JobState.CANCELLED, 271), ("265", JobState.CANCELLED, 265),
    ("143", JobState.UNKNOWN, 143), ("", JobState.UNKNOWN, None), ("x", JobState.UNKNOWN, None),
])
def test_exit_status_meanings(exit_status: str, state: JobState, code: int | None) -> None:
    info = info_from_attrs("1.s", {**ATTRS, "Exit_status": exit_status})
    assert (info.state, info.exit_code) == (state, code), info
    assert needs_marker(info) is (exit_status in ("143", "", "x"))


def test_signals_after_the_walltime_are_timeouts() -> None:
    used_up = {**ATTRS, "resources_used.walltime": "00:01:02"}
    assert info_from_attrs("1", {**used_up, "Exit_status": "271"}).state is JobState.TIMEOUT
    assert info_from_attrs("1", {**used_up, "Exit_status": "143"}).state is JobState.TIMEOUT


def test_markers_settle_unclear_jobs() -> None:
    unclear = info_from_attrs("1.s", {**ATTRS, "Exit_status": "143"})
    assert resolve("1.s", unclear, "signal").state is JobState.CANCELLED  # type: ignore[union-attr]
    failed = resolve("1.s", unclear, "143")
    assert failed is not None and (failed.state, failed.exit_code) == (JobState.FAILED, 143)
    never = resolve("1.s", info_from_attrs("1.s", {"job_state": "F"}), None)
    assert never is not None and never.state is JobState.CANCELLED
    assert resolve("1.s", None, None) is None
    gone = resolve("1.s", None, "0")
    assert gone is not None and gone.state is JobState.COMPLETED


@pytest.mark.parametrize(("letter", "state"), [("Q", JobState.QUEUED), ("H", JobState.HELD),
                                              ("W", JobState.QUEUED), ("R", JobState.RUNNING),
                                              ("E", JobState.RUNNING), ("B", JobState.RUNNING),
                                              ("S", JobState.SUSPENDED), ("U", JobState.SUSPENDED),
                                              ("M", JobState.UNKNOWN), ("Z", JobState.UNKNOWN)])
def test_state_letters(letter: str, state: JobState) -> None:
    assert info_from_attrs("1", {"job_state": letter}).state is state


def test_torque_xml_and_garbage_are_clear_errors(dialect: PbsDialect) -> None:
    xml = '<?xml version="1.0"?>\n<Data><Job><Job_Id>1.srv</Job_Id><job_state>C</job_state></Job></Data>\n'
    with pytest.raises(SchedulerError, match="Torque") as err:
        dialect.parse_status(result(xml), ["1.srv"])
    assert 'backend = "torque"' in str(err.value)
    with pytest.raises(SchedulerError, match="Could not understand"):
        dialect.parse_status(result("Segmentation fault (core dumped)\n"), ["1"])
    with pytest.raises(SchedulerError, match="not valid JSON"):
        dialect.parse_status(result('{"Jobs": {"1.s": {"job_state": "R"'), ["1.s"])
    with pytest.raises(SchedulerError, match="qstat failed"):
        dialect.parse_status(result("", "qstat: Unauthorized Request \n", 159), ["1"])


def test_jobs_list_is_the_users_own_with_arrays_folded(dialect: PbsDialect) -> None:
    listed = dialect.parse_jobs(load_golden(GOLDEN, "emulator_qstat_json_array"), "rjalice")
    assert [(i.id, i.state) for i in listed] == [("164[].vm", JobState.FAILED)]
    assert dialect.parse_jobs(load_golden(GOLDEN, "emulator_qstat_json_array"), "rjbob") == []


# -- cancel -------------------------------------------------------------------------------
def test_cancel_outcomes(dialect: PbsDialect) -> None:
    assert dialect.cancel_command("5[2].srv").argv == ("/opt/pbs/bin/qdel", "5[2].srv")
    dialect.parse_cancel(result(argv=("qdel",)), "1.s")
    dialect.parse_cancel(load_golden(GOLDEN, "emulator_qdel_finished"), "163.vm")
    dialect.parse_cancel(result(stderr="qdel: Request invalid for state of job 1.s\n", status=168), "1.s")
    dialect.parse_cancel(result(stderr="qdel: Request invalid for finished array subjob 1[2].s\n",
                                status=55), "1[2].s")
    with pytest.raises(JobNotFoundError):
        dialect.parse_cancel(result(stderr="qdel: Unknown Job Id 1.s\n", status=153), "1.s")
    with pytest.raises(JobNotFoundError, match="not one of this user's jobs"):  # another user's (PBSE_PERM)
        dialect.parse_cancel(result(stderr="qdel: Unauthorized Request  1.s\n", status=159), "1.s")
    with pytest.raises(SchedulerError, match="qdel failed"):
        dialect.parse_cancel(result(stderr="qdel: Server is out of memory 1.s\n", status=1), "1.s")


def test_ids_a_json_answer_silently_left_out_are_asked_again(dialect: PbsDialect) -> None:
    """openpbs/openpbs issue #2672: OpenPBS built from master prints only the first job of
    ``qstat -f -F json 10 11``; the second must be asked again, not taken as forgotten."""
    first_only = ('{\n\t"timestamp":\t1745411711,\n\t"pbs_version":\t"latest",\n\t"pbs_server":\t"h",\n'
                  '\t"Jobs":\t{\n\t\t"10.h":\t{\n\t\t\t"Job_Name":\t"STDIN",\n\t\t\t"job_state":\t"R"\n\t\t}\n\t}\n}\n')
    answer = result(first_only, "qstat: Unknown Job Id 12.h\n", 153,
                    argv=("qstat", "-f", "-F", "json", "-x", "-t", "10.h", "11.h", "12.h"))
    assert dialect.answer(answer, ["10.h", "11.h", "12.h"]).unanswered == ("11.h",)
    assert dialect.parse_status(answer, ["10.h"])["10.h"].state is JobState.RUNNING  # cJSON layout
    text = result("", argv=("qstat", "-f", "-x", "-t", "11.h"))
    assert dialect.answer(text, ["11.h"]).unanswered == ()
    assert dialect.status_command(["11.h"], json=False).argv == ("/opt/pbs/bin/qstat", "-f", "-x", "-t", "11.h")
