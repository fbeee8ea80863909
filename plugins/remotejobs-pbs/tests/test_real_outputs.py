"""The backend's parser on every verbatim real PBS output in tests/golden/real (SOURCES.md)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from remotejobs_pbs.dialect import PbsDialect

from remotejobs.errors import SchedulerError
from remotejobs.models import JobState
from remotejobs.testing.golden import load_golden
from remotejobs.transport.base import CommandResult

REAL = Path(__file__).parent / "golden" / "real"


def qstat(stdout: str, status: int = 0, stderr: str = "") -> CommandResult:
    return CommandResult(argv=("qstat", "-f", "-F", "json", "-x", "-t"), exit_status=status,
                         stdout=stdout, stderr=stderr)


def test_every_real_file_is_listed_in_sources_and_parsed_by_some_test() -> None:
    listed = (REAL / "SOURCES.md").read_text(encoding="utf-8")
    files = sorted(p.name for p in REAL.iterdir() if p.name != "SOURCES.md")
    assert files and all(f"`{name}`" in listed for name in files)
    tested = Path(__file__).read_text(encoding="utf-8")
    assert all(name.rsplit(".", 1)[0] in tested for name in files)


def test_pbs_pro_12_text_aiida() -> None:
    text = (REAL / "aiida_pbspro12_qstat_f.txt").read_text(encoding="utf-8")
    ids = ["68350.mycluster", "68351.mycluster", "69301.mycluster", "69302.mycluster",
           "74164", "74165.mycluster"]
    infos = PbsDialect().parse_status(qstat(text), ids)
    assert {k: v.state for k, v in infos.items()} == {
        "68350.mycluster": JobState.QUEUED, "68351.mycluster": JobState.QUEUED,
        "69301.mycluster": JobState.RUNNING, "69302.mycluster": JobState.HELD,
        "74164": JobState.RUNNING, "74165.mycluster": JobState.HELD}
    running = infos["69301.mycluster"]
    assert running.start_time == datetime(2013, 4, 20, 1, 36, 59)
    assert running.submit_time == datetime(2013, 4, 10, 17, 10, 29)
    assert (running.name, running.owner, running.queue) == ("Cu-dbp", "user02@mycluster.cluster", "P_lsu")
    assert "dependency" in (infos["69302.mycluster"].reason or "")


def test_wrapped_values_and_empty_continuations_are_joined() -> None:
    from remotejobs_pbs._qstat import parse_text

    jobs = {j["Job_Id"]: j for j in parse_text((REAL / "aiida_pbspro12_qstat_f.txt").read_text())}
    assert jobs["69301.mycluster"]["Error_Path"] == (
        "mycluster.cluster:/scratch/user02/QMMM-CuPhens/dbp/NOSE/RUN7/Cu-dbp.e69301")
    assert jobs["69301.mycluster"]["depend"] == (
        "afterok:69299.mycluster@mycluster.cluster,beforeok:69302.mycluster@mycluster.cluster")
    # job 74164: "comment = ...(b275:ncpus=16)" then a blank line, then more attributes
    assert jobs["74164.mycluster"]["Submit_arguments"] == "-W depend=afterany:74163 u-100-l-96.job"


def test_pbs_19_json_held_buildtest() -> None:
    text = (REAL / "buildtest_pbs19_qstat_x_f_json_held.json").read_text(encoding="utf-8")
    info = PbsDialect().parse_status(qstat(text), ["157.pbs"])["157.pbs"]
    assert (info.state, info.native_state, info.name, info.queue) == (
        JobState.HELD, "H", "pbs_hold_job", "workq")
    assert info.submit_time == datetime(2021, 8, 20, 23, 14, 8)


def test_pbs_19_json_running_swrap() -> None:
    text = (REAL / "swrap_pbs19_qstat_xf_json_running.json").read_text(encoding="utf-8")
    job_id = "12860476.meta-pbs.metacentrum.cz"
    info = PbsDialect().parse_status(qstat(text), ["12860476"])["12860476"]
    assert (info.state, info.owner, info.start_time) == (
        JobState.RUNNING, "jan_brezina@META", datetime(2022, 10, 4, 21, 23, 33))
    from remotejobs_pbs._qstat import parse_json

    flat = parse_json(text)[0]
    assert flat["Job_Id"] == job_id and flat["Resource_List.walltime"] == "00:01:00"
    assert flat["Resource_List.ncpus"] == "4" and "Variable_List" not in flat


@pytest.mark.parametrize("name", ["baw_server_pbs22_qstat_json_cannot_connect",
                                  "baw_server_pbs2025_qstat_json_no_route"])
def test_unreachable_server_is_a_transient_scheduler_error(name: str) -> None:
    result = load_golden(REAL, name)
    with pytest.raises(SchedulerError, match="qstat failed") as err:
        PbsDialect().parse_status(result, ["9999"])
    assert err.value.transient and "cannot connect to server" in err.value.output


def test_a_document_without_jobs_means_no_job() -> None:
    stdout = load_golden(REAL, "baw_server_pbs22_qstat_json_cannot_connect").stdout
    assert PbsDialect().parse_status(qstat(stdout, 153, "qstat: Unknown Job Id 9999.x\n"), ["9999.x"]) == {}


def test_pbs_2022_json_finished_jobs_alcf_aurora() -> None:
    """Finished jobs of a real server: Exit_status -29 (JOB_EXEC_KILL_WALLTIME, the comment
    says "exceeded resource walltime") is TIMEOUT, Exit_status 0 COMPLETED with the times
    of stime/obittime; a held job next to them stays HELD."""
    text = (REAL / "alcf_aurora_pbs2022_qstat_x_f_json_finished.json").read_text(encoding="utf-8")
    server = "aurora-pbs-0001.hostmgmt.cm.aurora.alcf.anl.gov"
    ids = [f"{n}.{server}" for n in (6617175, 6617182, 6631289, 4905472)]
    infos = PbsDialect().parse_status(qstat(text), ids)
    assert {k.split(".")[0]: (v.state, v.native_state, v.exit_code) for k, v in infos.items()} == {
        "6617175": (JobState.TIMEOUT, "F", None), "6617182": (JobState.TIMEOUT, "F", None),
        "6631289": (JobState.COMPLETED, "F", 0), "4905472": (JobState.HELD, "H", None)}
    done = infos[ids[2]]
    assert (done.name, done.queue) == ("3d-bfield.sh", "tiny")
    assert (done.submit_time, done.start_time, done.end_time) == (
        datetime(2025, 7, 20, 15, 16, 49), datetime(2025, 7, 23, 21, 30, 39), datetime(2025, 7, 23, 21, 33, 27))
    assert "walltime" in (infos[ids[0]].reason or "")
    assert infos[ids[3]].end_time is None
