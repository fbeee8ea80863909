"""Golden-output tests of the pure Grid Engine dialect (no cluster needed).

``tests/golden/captured/``: verbatim outputs of the test cluster's Son of Grid Engine 8.1.9
(``capture.py``); ``tests/golden/public/``: verbatim outputs of other Grid Engine sites and
versions from public repositories. SOURCES.md says where each comes from.
"""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from remotejobs_sge.dialect import ACCT_MARK, DETAIL_MARK, SgeDialect, job_name, native_state
from remotejobs_sge.settings import SgeSettings

from remotejobs.errors import InvalidJobSpecError, JobNotFoundError, SchedulerError, SubmissionError
from remotejobs.models import Dependency, DependencyGroup, JobSpec, JobState
from remotejobs.scheduler import ScriptContext
from remotejobs.testing.golden import load_golden
from remotejobs.transport.base import CommandResult

GOLDEN = Path(__file__).parent / "golden"
CTX = ScriptContext(job_dir="/home/a/.rj/jobs/x", index_dir="/home/a/.rj/ids", workdir="/home/a/w",
                    stdout="/home/a/.rj/jobs/x/stdout", stderr="/home/a/.rj/jobs/x/stderr", user="a")
D = SgeDialect(bin_dir="/usr/lib/gridengine", parallel_environment="smp")


def captured(name: str) -> CommandResult:
    return load_golden(GOLDEN / "captured", name)


def public(name: str) -> CommandResult:
    return load_golden(GOLDEN / "public", name)


def result(stdout: str = "", stderr: str = "", status: int = 0) -> CommandResult:
    return CommandResult(argv=("sh",), exit_status=status, stdout=stdout, stderr=stderr)


def qacct_output(*names: str) -> CommandResult:
    """What the history probe's one command prints: a mark line, then each qacct's output."""
    parts = []
    for name in names:
        got = captured(name)
        parts.append(f"{ACCT_MARK} {got.argv[-1]}\n{got.stdout}{got.stderr}")
    return result("".join(parts), status=1 if "qacct_unknown" in names else 0)


# -- submit -------------------------------------------------------------------------------
def test_submit_command_carries_every_option() -> None:
    spec = JobSpec(executable="/bin/true", name="9 we ird; $(x)", queue="all.q", nodes=1, processes_per_node=4,
                   walltime=timedelta(hours=1, seconds=1), memory_mb=1000, array="1-4",
                   depends_on=Dependency(condition="afterany", job_ids=("12", "13")))
    argv = D.submit_command(spec, CTX, "/home/a/.rj/jobs/x/job.sh").argv
    assert argv == ("/usr/lib/gridengine/qsub", "-terse", "-C", "", "-S", "/bin/bash", "-N", "j9_we_ird____x_",
                    "-q", "all.q", "-l", "h_rt=3601", "-l", "h_vmem=250M", "-pe", "smp", "4",
                    "-wd", CTX.job_dir, "-o", CTX.stdout, "-e", CTX.stderr, "-t", "1-4", "-hold_jid", "12,13",
                    "/home/a/.rj/jobs/x/job.sh")
    assert D.directives(spec, CTX) == []


def test_settings_give_the_environment_and_site_resources() -> None:
    dialect = SgeDialect.from_settings(SgeSettings(bin_dir="/opt/sge/bin", sge_root="/opt/sge", sge_cell="c1",
                                                   memory_resource="mem_free", shell="/bin/sh"))
    joined = ScriptContext(**{**CTX.__dict__, "stderr": CTX.stdout})
    argv = dialect.submit_command(JobSpec(executable="x", memory_mb=512), joined, "/s.sh").argv
    assert argv[:4] == ("env", "SGE_ROOT=/opt/sge", "SGE_CELL=c1", "/opt/sge/bin/qsub")
    assert argv[7:9] == ("-S", "/bin/sh") and "mem_free=512M" in argv
    assert argv[argv.index("-o"):argv.index("-o") + 4] == ("-o", CTX.stdout, "-j", "y")


@pytest.mark.parametrize(("spec", "match"), [
    (JobSpec(executable="x", processes_per_node=2), "parallel environment"),
    (JobSpec(executable="x", array="1,3"), "one range"),
    (JobSpec(executable="x", array="0-2"), "one range"),
    (JobSpec(executable="x", depends_on=Dependency(job_ids=("12",))), "afterok"),
    (JobSpec(executable="x", depends_on=Dependency(condition="afterany", job_ids=("12.3",))), "job numbers"),
    (JobSpec(executable="x", queue="all q"), "queue"),
    (JobSpec(executable="x", stdout="a:b"), "stdout path"),
])
def test_specs_grid_engine_cannot_take_are_refused(spec: JobSpec, match: str) -> None:
    ctx = ScriptContext(**{**CTX.__dict__, "stdout": spec.stdout or CTX.stdout})
    with pytest.raises(InvalidJobSpecError, match=match):
        SgeDialect().submit_command(spec, ctx, "/s.sh")


def test_job_names() -> None:
    assert job_name(None) == "remotejobs" and job_name("a/b:c") == "a_b_c" and job_name("1x") == "j1x"


def test_parse_submit_real_outputs() -> None:
    assert D.parse_submit(captured("qsub_terse")) == "55"
    assert D.parse_submit(captured("qsub_terse_array")) == "56"
    assert D.parse_submit(captured("qsub_stdin")) == "57"
    with pytest.raises(SubmissionError, match=r'unknown queue "nosuch\.q"') as err:
        D.parse_submit(captured("qsub_bad_queue"))
    assert not err.value.transient
    with pytest.raises(SubmissionError, match="parallel environment"):
        D.parse_submit(captured("qsub_bad_pe"))
    with pytest.raises(SchedulerError, match="no job id"):
        D.parse_submit(result("Your job 5 has been submitted\n"))


def test_job_id_expr_in_a_shell() -> None:
    def expand(task: str) -> str:
        env = {"PATH": "/usr/bin:/bin", "JOB_ID": "5", "SGE_TASK_ID": task}
        return subprocess.run(["bash", "-c", f"printf %s {SgeDialect.job_id_expr}"], env=env,
                              capture_output=True, text=True, check=True).stdout

    assert (expand("undefined"), expand("3")) == ("5", "5.3")


# -- status -------------------------------------------------------------------------------
def test_status_command_validates_ids_first() -> None:
    assert [i for i in ("55", "56.2", "0", "56.0", "56[2]", "1.srv", " 5", "5\n") if D.valid_id(i)] == ["55", "56.2"]
    assert D.status_command(["abc", "../x", "1;rm", "0"]) is None
    assert D.history_command(["abc"]) is None
    command = D.status_command(["61", "70.3", "abc", "61"])
    assert command is not None and command.argv[4:] == ("61,70", "/usr/lib/gridengine/qstat")
    history = D.history_command(["55", "56.2"])
    assert history is not None and history.argv[4:] == ("55 56", "/usr/lib/gridengine/qacct")


def test_live_states_from_the_test_cluster() -> None:
    got = captured("qstat_xml")
    ids = ["61", "62", "63", "64", "65", "66", "68", "69", "70", "70.3", "987654"]
    infos = D.parse_status(got, ids)
    states = {i: (infos[i].state, infos[i].native_state) for i in infos}
    assert states == {
        "61": (JobState.RUNNING, "r"), "62": (JobState.RUNNING, "r"), "63": (JobState.RUNNING, "dr"),
        "64": (JobState.SUSPENDED, "s"), "65": (JobState.HELD, "hqw"), "66": (JobState.FAILED, "Eqw"),
        "68": (JobState.RUNNING, "r"), "69": (JobState.HELD, "hqw"), "70": (JobState.HELD, "hqw"),
        "70.3": (JobState.HELD, "hqw"),
    }
    assert "being deleted" in (infos["63"].reason or "") and "2 elements" in (infos["70"].reason or "")
    assert infos["62"].owner == "rjalice" and infos["62"].start_time == datetime(2026, 12, 7, 0, 54, 49)
    assert "qstat -j gives no reason" in (infos["66"].reason or "")


def test_error_state_reason_comes_from_qstat_j() -> None:
    xml, detail = captured("qstat_xml"), captured("qstat_j_eqw")
    combined = result(xml.stdout + DETAIL_MARK + "\n" + detail.stdout + captured("qstat_j_unknown").stderr)
    info = D.parse_status(combined, ["66"])["66"]
    assert info.state is JobState.FAILED
    assert "can't chdir to /nonexistent/dir: No such file or directory" in (info.reason or "")


def test_other_users_jobs_and_listing() -> None:
    assert D.parse_status(captured("qstat_xml_other_user"), ["62"]) == {}
    listed = D.parse_jobs(captured("qstat_xml"), "rjalice")
    assert {"61", "62", "70.1", "70.3"} <= {i.id for i in listed}
    assert D.jobs_command("rjalice").argv[1:] == ("-xml", "-s", "prsz", "-u", "rjalice")
    with pytest.raises(SchedulerError):
        D.jobs_command("a b")


def test_finished_jobs_from_qacct() -> None:
    out = qacct_output("qacct_ok", "qacct_fail3", "qacct_timeout", "qacct_cancelled", "qacct_array",
                       "qacct_unknown")
    infos = D.parse_history(out, ["55", "60", "61", "63", "56", "56.2", "987654"])
    summary = {i: (v.state, v.exit_code) for i, v in infos.items()}
    assert summary == {
        "55": (JobState.COMPLETED, 0), "60": (JobState.FAILED, 3), "61": (JobState.TIMEOUT, None),
        "63": (JobState.CANCELLED, None), "56": (JobState.FAILED, 3), "56.2": (JobState.FAILED, 3),
    }
    assert "h_rt" in (infos["61"].reason or "") and "signal 9" in (infos["63"].reason or "")
    assert infos["55"].native_state == "failed 0" and infos["55"].owner == "rjalice"
    assert infos["56"].end_time is not None and "3 elements" in (infos["56"].reason or "")


def test_deleted_pending_job_is_not_in_qacct() -> None:
    assert D.parse_history(qacct_output("qacct_deleted_pending"), ["65"]) == {}


def test_other_versions_qstat_xml() -> None:
    pysqa = D.parse_status(public("pysqa_qstat_xml"), ["2836045", "2836046", "2967274"])
    assert {i: v.state for i, v in pysqa.items()} == {
        "2836045": JobState.RUNNING, "2836046": JobState.QUEUED, "2967274": JobState.FAILED}
    assert pysqa["2836045"].queue == "rpa.64g@cmmc182.bc.rzg.mpg.de" and pysqa["2967274"].owner == "janj"
    aiida = D.parse_status(public("aiida_qstat_ext_urg_xml"), ["1212299", "1212263", "1212322"])
    assert {i: v.state for i, v in aiida.items()} == {
        "1212299": JobState.RUNNING, "1212263": JobState.QUEUED, "1212322": JobState.HELD}
    assert aiida["1212263"].submit_time == datetime(2013, 6, 18, 12, 0, 57)


def test_other_versions_qacct() -> None:
    for name, job in (("sgejobs_qacct_92500", "92500"), ("sgejobs_qacct_77672", "77672")):
        got = public(name)
        info = D.parse_history(result(f"{ACCT_MARK} {job}\n{got.stdout}"), [job])[job]
        assert (info.state, info.exit_code) == (JobState.COMPLETED, 0), info
    infos = D.parse_history(result(f"{ACCT_MARK} 77672\n{public('sgejobs_qacct_77672').stdout}"), ["77672.2"])
    assert infos["77672.2"].start_time == datetime(2019, 9, 4, 11, 46, 34)


@pytest.mark.parametrize(("failed", "status", "category", "wall", "state"), [
    ("26  : opening input/output file", "0", "NONE", "0s", JobState.FAILED),
    ("0", "137", "-l h_rt=60", "60", JobState.TIMEOUT),
    ("100 : assumedly after job", "137 (Killed)", "-l h_rt=00:10:00", "30.000", JobState.CANCELLED),
    ("37  : qmaster enforced h_rt, h_cpu, or h_vmem limit", "137", "-l h_vmem=1G", "5s", JobState.FAILED),
    ("25  : rescheduling", "0", "NONE", "1s", JobState.UNKNOWN),
])
def test_failed_codes(failed: str, status: str, category: str, wall: str, state: JobState) -> None:
    text = (f"==============================================================\njobnumber    7\ntaskid       undefined\n"
            f"failed       {failed}\nexit_status  {status}\nru_wallclock {wall}\ncategory     {category}\n")
    assert D.parse_history(result(f"{ACCT_MARK} 7\n{text}"), ["7"])["7"].state is state


def test_garbage_is_a_scheduler_error() -> None:
    with pytest.raises(SchedulerError, match="qstat output"):
        D.parse_status(result("<job_info><job_list><state>r</state></job_list></job_info>"), ["1"])
    with pytest.raises(SchedulerError, match="qstat output"):
        D.parse_status(result("not xml"), ["1"])
    bomb = '<?xml version="1.0"?><!DOCTYPE j [<!ENTITY a "aaaa">]><job_info>&a;</job_info>'
    with pytest.raises(SchedulerError, match="qstat output"):
        D.parse_status(result(bomb), ["1"])
    with pytest.raises(SchedulerError, match="qstat failed"):
        D.parse_status(result(stderr="error: commlib error: got select error (Connection refused)", status=1), ["1"])
    with pytest.raises(SchedulerError, match="qacct output"):
        D.parse_history(result(f"{ACCT_MARK} 7\njobnumber    x\n"), ["7"])


def test_state_words() -> None:
    assert native_state("Ehqw")[0] is JobState.FAILED and native_state("dS")[0] is JobState.SUSPENDED
    assert native_state("Rr")[0] is JobState.RUNNING and native_state("hRwq")[0] is JobState.HELD
    assert native_state("z")[0] is JobState.UNKNOWN and D.map_state("qw") is JobState.QUEUED


# -- cancel -------------------------------------------------------------------------------
def test_cancel_outputs() -> None:
    D.parse_cancel(captured("qdel_running"), "63")
    for name in ("qdel_unknown", "qdel_finished", "qdel_other_user"):
        with pytest.raises(JobNotFoundError):
            D.parse_cancel(captured(name), "62")
    assert D.cancel_not_found_may_be_finished(captured("qdel_finished"))
    assert not D.cancel_not_found_may_be_finished(captured("qdel_other_user"))
    with pytest.raises(SchedulerError):
        D.parse_cancel(result(stderr="error: commlib error", status=1), "62")
    with pytest.raises(JobNotFoundError):
        D.cancel_command("../62")
    assert D.cancel_command("70.3").argv == ("/usr/lib/gridengine/qdel", "70.3")


def test_dependency_groups() -> None:
    ended = DependencyGroup(clauses=(Dependency(condition="afterany", job_ids=("12", "13")),
                                     Dependency(condition="afterany", job_ids=("13", "14"))))
    argv = D.submit_command(JobSpec(executable="x", depends_on=ended), CTX, "/s.sh").argv
    assert argv[argv.index("-hold_jid") + 1] == "12,13,14"
    for group, match in ((ended.model_copy(update={"join": "any"}), "'any'"),
                         (DependencyGroup(clauses=(Dependency(job_ids=("12",)),)), "afterok")):
        with pytest.raises(InvalidJobSpecError, match=match):
            D.submit_command(JobSpec(executable="x", depends_on=group), CTX, "/s.sh")
