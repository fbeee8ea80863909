"""Golden-output tests of the pure Torque dialect (no cluster needed).

Golden files (tests/golden/):

- ``reconstructed_torque_qstat_f_reference.txt`` / ``reconstructed_torque_qstat_x_reference.xml``:
  reconstructions after a yabi Torque 2.3 output and a shortened BatchEuphoria XML answer (the
  verbatim real outputs are in golden/real/, see SOURCES.md and test_real_outputs.py);
- ``reconstructed_torque_qstat_f_states.txt``: one job per state letter and exit kind, Torque layout,
  with a wrapped Variable_List; ``reconstructed_torque_qstat_x_no_exit.xml``: XML without exit_status;
- ``emulator_qstat_*``: captured from the test cluster's Torque emulator (wrapped values,
  array parent and elements);
- ``wrapper_qstat_f.txt``: Slurm's torque wrapper (TAB layout, no exit_status, a U state),
  job 11 captured on the test cluster;
- ``reconstructed_garbage.txt``: output no qstat prints.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from remotejobs_torque._qstat_text import parse_full
from remotejobs_torque._states import needs_marker, resolve
from remotejobs_torque.dialect import TorqueDialect, id_key, job_name

from remotejobs.errors import InvalidJobSpecError, JobNotFoundError, SchedulerError, SubmissionError
from remotejobs.models import Dependency, JobInfo, JobSpec, JobState
from remotejobs.scheduler.dialect import ScriptContext
from remotejobs.transport.base import CommandResult

GOLDEN = Path(__file__).parent / "golden"
CTX = ScriptContext(job_dir="/home/a/.rj/jobs/x", index_dir="/home/a/.rj/ids", workdir="/home/a/w",
                    stdout="/home/a/.rj/jobs/x/stdout", stderr="/home/a/.rj/jobs/x/stderr", user="a")


def golden(name: str) -> str:
    return (GOLDEN / name).read_text(encoding="utf-8")


def result(stdout: str = "", stderr: str = "", status: int = 0, argv: tuple[str, ...] = ("qstat",)
           ) -> CommandResult:
    return CommandResult(argv=argv, exit_status=status, stdout=stdout, stderr=stderr)


@pytest.fixture
def dialect() -> TorqueDialect:
    return TorqueDialect(bin_dir="/opt/torque/bin")


# -- submit -------------------------------------------------------------------------------
def test_submit_command_carries_every_option(dialect: TorqueDialect) -> None:
    spec = JobSpec(executable="/bin/true", name="we ird; $(x)", queue="short", nodes=2,
                   processes_per_node=4, walltime=timedelta(hours=1, seconds=1), memory_mb=1024,
                   array="1-4", depends_on=Dependency(condition="afterany", job_ids=("12.srv", "13")))
    argv = dialect.submit_command(spec, CTX, "/home/a/.rj/jobs/x/job.sh").argv
    assert argv == ("/opt/torque/bin/qsub", "-N", "we_ird____x_", "-q", "short",
                    "-l", "nodes=2:ppn=4,walltime=01:00:01,mem=1024mb",
                    "-o", CTX.stdout, "-e", CTX.stderr, "-t", "1-4",
                    "-W", "depend=afterany:12.srv:13", "/home/a/.rj/jobs/x/job.sh")
    script = dialect.render_script(spec, CTX)
    assert "#PBS -N we_ird____x_\n#PBS -q short\n#PBS -l nodes=2:ppn=4,walltime=01:00:01" in script
    assert '__rj_id="${PBS_JOBID:-${SLURM_JOB_ID:-unknown}}"' in script


def test_same_stdout_and_stderr_join_and_shell_active_paths_are_refused(dialect: TorqueDialect) -> None:
    joined = ScriptContext(**{**CTX.__dict__, "stderr": CTX.stdout})
    argv = dialect.submit_command(JobSpec(executable="x"), joined, "/s.sh").argv
    assert argv[argv.index("-j"):argv.index("-j") + 2] == ("-j", "oe") and "-e" not in argv
    risky = ScriptContext(**{**CTX.__dict__, "stdout": "/home/a/out $(id).txt"})
    with pytest.raises(InvalidJobSpecError, match="stdout path"):
        dialect.submit_command(JobSpec(executable="x"), risky, "/s.sh")


@pytest.mark.parametrize("printed", ["1234.torque-server.example.org", "1234[].server", "103"])
def test_parse_submit_accepts_every_id_form(dialect: TorqueDialect, printed: str) -> None:
    assert dialect.parse_submit(result(f"{printed}\n", argv=("qsub",))) == printed


def test_parse_submit_errors(dialect: TorqueDialect) -> None:
    with pytest.raises(SubmissionError, match="Unknown queue") as err:
        dialect.parse_submit(result(stderr="qsub: submit error (Unknown queue MSG=cannot locate "
                                    "queue)", status=170))
    assert not err.value.transient
    wrapper = ("There was an error running the Slurm sbatch command.\nThe command was:\n'...'\nand the "
               "output was:\n'sbatch: error: invalid partition specified: nosuchq\n'\n")
    with pytest.raises(SubmissionError, match="invalid partition"):
        dialect.parse_submit(result(wrapper, status=1))
    with pytest.raises(SchedulerError, match="no job id"):
        dialect.parse_submit(result("Submitted batch job 12\n"))


def test_job_name_and_id_key() -> None:
    assert job_name(None) == "remotejobs" and job_name("1st") == "j1st" and len(job_name("a" * 99)) == 64
    assert [id_key(i) for i in ("12.srv.example", "12[].srv", "12[3].srv", "12")] == [
        "12", "12[]", "12[3]", "12"]


# -- status: Torque layouts -----------------------------------------------------------------
EXPECTED = {
    "101": (JobState.COMPLETED, 0), "102": (JobState.FAILED, 3), "103": (JobState.TIMEOUT, None),
    "104": (JobState.TIMEOUT, 271), "105": (JobState.CANCELLED, 271), "106": (JobState.FAILED, None),
    "107": (JobState.RUNNING, None), "108": (JobState.HELD, None), "109": (JobState.QUEUED, None),
    "110": (JobState.RUNNING, None), "111": (JobState.SUSPENDED, None), "112": (JobState.QUEUED, None),
    "113": (JobState.QUEUED, None), "114": (JobState.COMPLETED, 0),
}


def test_every_state_letter_and_exit_kind(dialect: TorqueDialect) -> None:
    infos = dialect.parse_status(result(golden("reconstructed_torque_qstat_f_states.txt")), list(EXPECTED))
    assert {k: (v.state, v.exit_code) for k, v in infos.items()} == EXPECTED
    assert "JOB_EXEC_OVERLIMIT_WT" in (infos["103"].reason or "")
    assert "signal 15" in (infos["105"].reason or "")
    assert infos["108"].native_state == "H" and "dependency" in (infos["108"].reason or "")
    assert infos["101"].start_time == datetime(2013, 8, 12, 15, 19, 43)
    assert infos["101"].owner == "alice@login.example.org" and infos["101"].queue == "batch"


def test_wrapped_values_are_joined() -> None:
    jobs = {j["Job_Id"]: j for j in parse_full(golden("reconstructed_torque_qstat_f_states.txt"))}
    assert jobs["114.torque.example.org"]["Variable_List"].endswith(
        "PBS_O_SHELL=/bin/bash,PBS_O_WORKDIR=/home/alice/run,PBS_O_QUEUE=batch")
    ref = parse_full(golden("reconstructed_torque_qstat_f_reference.txt"))[0]
    assert ref["Variable_List"] == (
        "PBS_O_HOME=/export/home/tech/lrender,PBS_O_LANG=en_AU.UTF-8,PBS_O_LOGNAME=lrender,"
        "PBS_O_PATH=/usr/bin:/bin,PBS_O_SHELL=/bin/bash,PBS_O_WORKDIR=/export/home/tech/lrender,"
        "PBS_O_QUEUE=normal")
    emulator = {j["Job_Id"]: j for j in parse_full(golden("emulator_qstat_f.txt"))}
    assert emulator["94.vm"]["submit_args"] == "-N golden-fail -v LONG_VARIABLE_FOR_WRAPPING=" + "a" * 109
    assert "LONG_VARIABLE_FOR_WRAPPING=" + "a" * 109 in emulator["94.vm"]["Variable_List"]


def test_every_record_defence_of_the_text_reader() -> None:
    """Each way a ``qstat -f`` record is unreadable marks that record only, and the
    lines after the mark are not read into it (a forged tail stays out)."""
    text = ("Job Id: 1.s\r\n    job_state = R\r\n    Job_Name = a\r\n\tb\r\n \t\r\n\n"
            "Job Id: \n    job_state = R\n"
            "Job Id: 2.s\n\tcontinued\n    job_state = R\n"
            "Job Id: 3.s\n    job_state = R\n    job_state = C\n    Job_Name = later\n"
            "Job Id: 4.s\ncolumn zero\n    job_state = R\n"
            "Job Id: 5.s\n    job_state = R\n    _malformed = forged\n    Job_Name = later\n"
            "Job Id:\t6.s\n\tjob_state = Q\n\tJob_Name = x\n\ty\n"
            "Job Id: 7.s\n    Job_Name = x\n")
    assert parse_full(text) == [
        {"Job_Id": "1.s", "_layout": "space", "job_state": "R", "Job_Name": "ab"},
        {"Job_Id": "", "_layout": "space", "_malformed": "line 7: job header without an id"},
        {"Job_Id": "2.s", "_layout": "space", "_malformed": "line 10: continuation line before any attribute"},
        {"Job_Id": "3.s", "_layout": "space", "job_state": "R",
         "_malformed": "line 14: attribute 'job_state' given twice"},
        {"Job_Id": "4.s", "_layout": "space", "_malformed": "line 17: not a qstat -f attribute line: 'column zero'"},
        {"Job_Id": "5.s", "_layout": "space", "job_state": "R", "_malformed": "forged"},
        {"Job_Id": "6.s", "_layout": "tab", "job_state": "Q", "Job_Name": "xy"},
        {"Job_Id": "7.s", "_layout": "space", "Job_Name": "x", "_malformed": "job '7.s' has no job_state"},
    ]
    with pytest.raises(ValueError, match="line 2: text outside a job block"):
        parse_full("\n    job_state = R\nJob Id: 1\n")


def test_reference_text_and_xml_fixtures(dialect: TorqueDialect) -> None:
    text = dialect.parse_status(result(golden("reconstructed_torque_qstat_f_reference.txt")), ["42940"])
    assert (text["42940"].state, text["42940"].exit_code, text["42940"].name) == (
        JobState.COMPLETED, 0, "test.sh")
    xml = dialect.parse_status(result(golden("reconstructed_torque_qstat_x_reference.xml")), ["4564045.pbsserver"])
    info = xml["4564045.pbsserver"]
    assert (info.state, info.exit_code, info.queue) == (JobState.COMPLETED, 0, "otp")
    assert info.end_time == datetime.fromtimestamp(1522939194, tz=UTC)
    assert info.submit_time == datetime.fromtimestamp(1522939158, tz=UTC)


def test_xml_without_exit_status_needs_the_marker(dialect: TorqueDialect) -> None:
    infos = dialect.parse_status(result(golden("reconstructed_torque_qstat_x_no_exit.xml")),
                                 ["201", "202", "203[]"])
    done = infos["201"]
    assert (done.state, done.native_state, done.exit_code) == (JobState.UNKNOWN, "C", None)
    assert needs_marker(done) and not needs_marker(infos["202"])
    assert infos["202"].state is JobState.RUNNING and infos["203[]"].state is JobState.QUEUED
    assert resolve("201", done, "0").state is JobState.COMPLETED  # type: ignore[union-attr]
    failed = resolve("201", done, "3")
    assert failed is not None and (failed.state, failed.exit_code) == (JobState.FAILED, 3)
    assert resolve("201", done, "signal").state is JobState.CANCELLED  # type: ignore[union-attr]
    gone = resolve("201", done, None)
    assert gone is not None and gone.state is JobState.CANCELLED and "never recorded" in (gone.reason or "")


def test_array_ids_from_the_emulator(dialect: TorqueDialect) -> None:
    ids = ["95[].vm", "95[1].vm", "95[2].vm"]
    infos = dialect.parse_status(result(golden("emulator_qstat_x_array.xml")), ids)
    assert set(infos) == set(ids)
    assert all(i.state is JobState.COMPLETED and i.name == "golden-arr" for i in infos.values())


def test_unknown_ids_leave_partial_results(dialect: TorqueDialect) -> None:
    out = result(golden("emulator_qstat_f.txt"), "qstat: Unknown Job Id Error 999999.vm\n", 153)
    infos = dialect.parse_status(out, ["94.vm", "96", "98.vm", "999999.vm"])
    assert set(infos) == {"94.vm", "96", "98.vm"}
    assert infos["96"].id == "96" and infos["98.vm"].state is JobState.HELD
    none = dialect.parse_status(result("", "qstat: Unknown Job Id Error 5.vm\n", 153), ["5.vm"])
    assert none == {}
    wrapper = dialect.parse_status(result("", "", 153), ["5"])  # the wrapper: silent 153
    assert wrapper == {}


def test_slurm_wrapper_layout(dialect: TorqueDialect) -> None:
    infos = dialect.parse_status(result(golden("wrapper_qstat_f.txt")), ["11", "12", "13", "14"])
    assert (infos["11"].state, infos["11"].native_state, infos["11"].exit_code) == (
        JobState.UNKNOWN, "C", None)
    assert infos["11"].start_time == datetime(2026, 11, 22, 3, 25, 27)  # mtime is the start
    assert infos["12"].state is JobState.TIMEOUT  # ctime (end) - mtime (start) >= walltime
    assert infos["13"].state is JobState.RUNNING and infos["14"].state is JobState.UNKNOWN
    assert [i.id for i in dialect.parse_jobs(result(golden("wrapper_qstat_f.txt")), "rjbob")] == ["13"]


@pytest.mark.parametrize("name", ["reconstructed_garbage.txt"])
def test_garbage_is_a_clear_scheduler_error(dialect: TorqueDialect, name: str) -> None:
    with pytest.raises(SchedulerError, match="Could not understand the qstat output") as err:
        dialect.parse_status(result(golden(name)), ["1"])
    assert "Segmentation fault" in err.value.output
    with pytest.raises(SchedulerError, match="not well-formed XML"):
        dialect.parse_status(result('<?xml version="1.0"?>\n<Data><Job><Job_Id>1'), ["1"])
    with pytest.raises(SchedulerError, match="qstat failed"):
        dialect.parse_status(result("", "qstat: cannot connect to server vm (errno=111)", 1), ["1"])


def test_status_command_and_xml_rejection(dialect: TorqueDialect) -> None:
    assert dialect.status_command(["1.s", "2.s"]).argv == ("/opt/torque/bin/qstat", "-f", "-x", "--", "1.s", "2.s")
    rejected = result(stderr="Unknown option: x\nUsage:\n    qstat [-f] ...", status=2)
    xml, text_probe = dialect.status_probes()
    assert xml.is_unavailable(rejected) and not xml.is_unavailable(result(status=153))
    text_command = text_probe.command(["1"])
    assert not text_probe.is_unavailable(rejected) and text_command is not None
    assert text_command.argv[1:3] == ("-f", "-1")
    text = TorqueDialect(status_format="text")
    assert text.status_command(["1"]).argv == ("qstat", "-f", "-1", "--", "1")


# -- cancel -------------------------------------------------------------------------------
def test_cancel_outcomes(dialect: TorqueDialect) -> None:
    dialect.parse_cancel(result(argv=("qdel",)), "1.s")
    dialect.parse_cancel(result(stderr="qdel: Request invalid for state of job MSG=invalid state for "
                                "job - COMPLETE 1.s", status=168), "1.s")
    for stderr, status in (("qdel: nonexistent job id: 1", 153), ("qdel: Unknown Job Id 1.s", 153),
                           ("", 153), ("", 1)):
        with pytest.raises(JobNotFoundError):
            dialect.parse_cancel(result(stderr=stderr, status=status), "1")
    assert dialect.cancel_not_found_may_be_finished(result(status=1))
    assert not dialect.cancel_not_found_may_be_finished(result(stderr="qdel: Unknown Job Id 1.s", status=153))
    with pytest.raises(JobNotFoundError, match="not one of this user's jobs"):  # another user's (PBSE_PERM)
        dialect.parse_cancel(result(stderr="qdel: Unauthorized Request  MSG=operation not permitted "
                                    "1.s", status=159), "1.s")
    with pytest.raises(SchedulerError, match="qdel failed"):
        dialect.parse_cancel(result(stderr="qdel: Server is out of memory 1.s", status=2), "1.s")


def test_state_map_is_total_for_unknown_words(dialect: TorqueDialect) -> None:
    assert dialect.map_state("U") is JobState.UNKNOWN and dialect.map_state("R") is JobState.RUNNING
    assert isinstance(JobInfo(id="x", state=dialect.map_state("Q")), JobInfo)


# -- a PBS Professional / OpenPBS server is named, not misread -------------------------------
PBS_PRO_REAL = Path(__file__).parents[2] / "remotejobs-pbs" / "tests" / "golden" / "real"


def test_pbs_pro_text_answer_to_x_names_the_pbs_backend(dialect: TorqueDialect) -> None:
    """Real PBS Pro 12 ``qstat -f`` text (AiiDA's capture, see the pbs plugin's SOURCES.md):
    PBS Pro answers ``qstat -f -x`` with text, so the torque backend stops with a clear error
    instead of waiting forever for a ``C`` that PBS Pro never shows."""
    text = (PBS_PRO_REAL / "aiida_pbspro12_qstat_f.txt").read_text(encoding="utf-8")
    answer = result(text, argv=("qstat", "-f", "-x", "68350.mycluster"))
    with pytest.raises(SchedulerError, match="PBS Professional or OpenPBS") as err:
        dialect.check_xml_answer(answer)
    assert 'backend = "pbs"' in str(err.value)
    dialect.check_xml_answer(result(golden("real/batcheuphoria_qstat_x_finished.xml"), argv=("qstat", "-f", "-x")))
    dialect.check_xml_answer(result("", "qstat: Unknown Job Id Error 5.vm\n", 153, argv=("qstat", "-f", "-x")))


def test_a_job_in_state_f_names_the_pbs_backend(dialect: TorqueDialect) -> None:
    finished = "Job Id: 7.pbs\n    Job_Name = x\n    job_state = F\n    Exit_status = 0\n\n"
    with pytest.raises(SchedulerError, match="state F") as err:
        dialect.parse_status(result(finished), ["7.pbs"])
    assert 'backend = "pbs"' in str(err.value)
