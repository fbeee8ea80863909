"""SlurmDialect parsers against golden outputs.

``golden/captured_*.txt`` were captured from the real test cluster by golden/capture.py
(its probe jobs are named after what they show); ``golden/handwritten_*.txt`` are labelled
hand-written files for states and failures the single-node cluster cannot produce.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime

import pytest
from remotejobs_slurm._parse import decode_exit_code, decode_wait_status
from remotejobs_slurm.dialect import SlurmDialect

from remotejobs.errors import JobNotFoundError, RemoteJobsError, SchedulerError, SubmissionError
from remotejobs.models import JobInfo, JobState
from remotejobs.scheduler.arrays import aggregate_array
from remotejobs.transport.base import CommandResult

Golden = Callable[[str], CommandResult]
D = SlurmDialect()


def _by_name(infos: dict[str, JobInfo]) -> dict[str, JobInfo]:
    return {i.name or "": i for i in infos.values()}


def _ids(result: CommandResult) -> list[str]:
    return [line.split("|")[0] for line in result.stdout.splitlines()]


# -- submit ----------------------------------------------------------------------------
def test_sbatch_parsable_gives_the_job_id(golden: Golden) -> None:
    job_id = D.parse_submit(golden("captured_sbatch_ok"))
    assert job_id.isdigit() and job_id == golden("captured_sbatch_ok").stdout.strip()


def test_sbatch_cluster_suffix_and_extra_lines(golden: Golden) -> None:
    assert D.parse_submit(golden("handwritten_sbatch_cluster")) == "4242"


@pytest.mark.parametrize(("name", "message"), [
    ("captured_sbatch_bad_partition", "Invalid partition name specified"),
    ("captured_sbatch_bad_memory", "Requested node configuration is not available"),
])
def test_sbatch_refusal_is_submission_error_with_slurm_message(golden: Golden, name: str, message: str) -> None:
    with pytest.raises(SubmissionError) as err:
        D.parse_submit(golden(name))
    assert message in str(err.value) and err.value.transient is False


def test_sbatch_controller_unreachable_is_transient(golden: Golden) -> None:
    with pytest.raises(SubmissionError) as err:
        D.parse_submit(golden("handwritten_sbatch_unreachable"))
    assert err.value.transient is True and "Unable to contact slurm controller" in str(err.value)


def test_sbatch_garbage_is_scheduler_error_with_output(golden: Golden) -> None:
    with pytest.raises(SchedulerError) as err:
        D.parse_submit(golden("handwritten_garbage_sbatch"))
    assert "Submitted batch job" in err.value.output and err.value.command[0] == "sbatch"


# -- status ----------------------------------------------------------------------------
def test_captured_states_and_exit_codes(golden: Golden) -> None:
    result = golden("captured_squeue_status")
    infos = _by_name(D.parse_status(result, _ids(result)))
    expected = {
        "probe-ok": (JobState.COMPLETED, 0), "probe-fail3": (JobState.FAILED, 3),
        "probe-kill9": (JobState.FAILED, 128 + 9), "probe-cancel": (JobState.CANCELLED, 128 + 15),
        "probe-timeout": (JobState.TIMEOUT, 128 + 15), "probe-held": (JobState.HELD, None),
        "probe-adminheld": (JobState.HELD, None), "probe-dependency": (JobState.QUEUED, None),
        "probe-running": (JobState.RUNNING, None), "probe-suspended": (JobState.SUSPENDED, None),
        'probe we"ird $(x) ünï': (JobState.COMPLETED, 0),
    }
    for name, (state, code) in expected.items():
        assert (infos[name].state, infos[name].exit_code) == (state, code), infos[name]
    assert infos["probe-held"].reason == "JobHeldUser" and infos["probe-adminheld"].reason == "JobHeldAdmin"
    assert infos["probe-dependency"].reason == "Dependency"
    assert infos["probe-timeout"].reason is not None and "walltime" in infos["probe-timeout"].reason
    ok = infos["probe-ok"]
    assert ok.owner == "rjalice" and ok.queue == "debug" and ok.native_state == "COMPLETED"
    assert isinstance(ok.submit_time, datetime) and ok.end_time is not None
    assert infos["probe-held"].start_time is None and infos["probe-running"].end_time is None
    assert infos["probe-adminheld"].start_time is None  # squeue shows the expected start


def test_array_ids_elements_and_aggregate(golden: Golden) -> None:
    result = golden("captured_squeue_status")
    rows = [ln.split("|", 10) for ln in result.stdout.splitlines()]
    array = next(r[1] for r in rows if r[-1] == "probe array|pipe")
    held = next(r[1] for r in rows if r[-1] == "probe-held-array")
    infos = D.parse_status(result, [array, f"{array}_0", f"{array}_2", held, f"{held}_1"])
    assert infos[f"{array}_0"].state is JobState.COMPLETED and infos[f"{array}_0"].name == "probe array|pipe"
    assert (infos[f"{array}_2"].state, infos[f"{array}_2"].exit_code) == (JobState.FAILED, 2)
    whole = infos[array]
    assert whole.id == array and whole.state is JobState.FAILED and whole.exit_code == 1
    assert whole.reason is not None and "3 elements" in whole.reason
    assert infos[held].state is JobState.HELD and infos[f"{held}_1"].state is JobState.HELD


def test_ids_not_reported_are_left_out(golden: Golden) -> None:
    result = golden("captured_squeue_status")
    assert "987654321" not in D.parse_status(result, [*_ids(result), "987654321"])


@pytest.mark.parametrize("name", ["captured_squeue_one_unknown", "captured_squeue_two_unknown"])
def test_unknown_ids_give_empty_result(golden: Golden, name: str) -> None:
    assert D.parse_status(golden(name), ["987654321", "987654322"]) == {}


def test_mixed_known_and_unknown(golden: Golden) -> None:
    result = golden("captured_squeue_mixed_unknown")
    known = _ids(result)
    assert len(known) == 1
    assert set(D.parse_status(result, [*known, "987654321"])) == set(known)


def test_handwritten_states(golden: Golden) -> None:
    result = golden("handwritten_squeue_states")
    infos = _by_name(D.parse_status(result, _ids(result)))
    expected = {
        "hw-node-fail": JobState.FAILED, "hw-oom": JobState.FAILED, "hw-preempted": JobState.FAILED,
        "hw-boot-fail": JobState.FAILED, "hw-deadline": JobState.TIMEOUT, "hw-unknown-word": JobState.UNKNOWN,
        "hw-requeue-hold": JobState.HELD, "hw-configuring": JobState.QUEUED, "hw-completing": JobState.RUNNING,
        "hw-stopped": JobState.SUSPENDED, "hw-special-exit": JobState.FAILED, "hw-revoked": JobState.CANCELLED,
    }
    assert {k: v.state for k, v in infos.items()} == expected
    assert infos["hw-unknown-word"].native_state == "FROBNICATED"
    assert "FROBNICATED" in (infos["hw-unknown-word"].reason or "")
    assert "out of memory" in (infos["hw-oom"].reason or "")
    assert "node" in (infos["hw-node-fail"].reason or "")
    assert "preempted" in (infos["hw-preempted"].reason or "")
    assert infos["hw-special-exit"].exit_code == 1


def test_squeue_failure_other_than_unknown_id_is_transient_scheduler_error(golden: Golden) -> None:
    with pytest.raises(SchedulerError) as err:
        D.parse_status(golden("handwritten_squeue_unreachable"), ["101", "102"])
    assert err.value.transient is True and err.value.exit_status == 1


def test_squeue_garbage_is_scheduler_error_with_raw_output(golden: Golden) -> None:
    with pytest.raises(SchedulerError) as err:
        D.parse_status(golden("handwritten_garbage_squeue"), ["101"])
    assert "Welcome to the cluster" in err.value.output


def test_truncated_and_mangled_lines_never_escape_as_other_errors(golden: Golden) -> None:
    line = golden("captured_squeue_status").stdout.splitlines()[0]
    argv = ("squeue",)
    for cut in range(len(line)):
        for text in (line[:cut], line[cut:], line.replace("|", "", cut % 11)):
            result = CommandResult(argv=argv, exit_status=0, stdout=text + "\n", stderr="")
            for parse in (lambda r: D.parse_status(r, ["41"]), lambda r: D.parse_history(r, ["41"]),
                          lambda r: D.parse_jobs(r, "rjalice")):
                with contextlib.suppress(SchedulerError):
                    parse(result)


def test_status_command_is_one_call_for_many_ids() -> None:
    argv = D.status_command([str(i) for i in range(1, 1001)]).argv
    assert argv[argv.index("-j") + 1] == ",".join(str(i) for i in range(1, 1001))
    assert D.status_command(["12", "bad id"]).argv[argv.index("-j") + 1] == "12"


# -- jobs ------------------------------------------------------------------------------
def test_jobs_listing(golden: Golden) -> None:
    infos = D.parse_jobs(golden("captured_squeue_jobs"), "rjalice")
    assert infos and all(i.owner == "rjalice" for i in infos)
    assert D.parse_jobs(golden("captured_squeue_jobs"), "rjbob") == []
    assert D.jobs_command("rjalice").argv[:8] == ("squeue", "-h", "-a", "-r", "-t", "all", "-u", "rjalice")


# -- history ---------------------------------------------------------------------------
def test_sacct_disabled_is_detected(golden: Golden) -> None:
    result = golden("captured_sacct_disabled")
    assert D.accounting_disabled(result) and D.parse_history(result, ["1"]) == {}
    assert SlurmDialect(accounting=False).history_command(["1"]) is None
    assert [p.name for p in SlurmDialect(accounting=False).status_probes()] == ["squeue"]
    squeue, sacct = D.status_probes()
    assert (squeue.stage, sacct.stage) == ("live", "history") and sacct.is_unavailable(result)
    assert not squeue.is_unavailable(result)
    assert D.history_command(["1", "2_3"]) is not None


def test_sacct_rows(golden: Golden) -> None:
    infos = D.parse_history(golden("handwritten_sacct"), ["301", "302", "303", "304", "305", "305_2"])
    got = {k: (v.state, v.exit_code) for k, v in infos.items()}
    assert got == {
        "301": (JobState.COMPLETED, 0), "302": (JobState.FAILED, 3), "303": (JobState.CANCELLED, 128 + 15),
        "304": (JobState.TIMEOUT, 0), "305": (JobState.FAILED, 128 + 125), "305_2": (JobState.FAILED, 128 + 125),
    }
    assert infos["303"].native_state == "CANCELLED by 1001" and infos["305_2"].name == "hw|array"


def test_exit_code_decoding() -> None:
    assert [decode_wait_status(s) for s in ("0", "768", "9", "x", "-1")] == [0, 3, 137, None, None]
    assert [decode_exit_code(s) for s in ("0:0", "3:0", "0:15", "", "a:b")] == [0, 3, 143, None, None]


# -- cancel ----------------------------------------------------------------------------
def test_cancel_outcomes(golden: Golden) -> None:
    D.parse_cancel(golden("captured_scancel_running"), "41")  # returns: cancelled
    D.parse_cancel(golden("captured_scancel_completed"), "38")  # returns: already finished
    for name, job_id in (("captured_scancel_unknown", "987654321"), ("captured_scancel_malformed", "abc"),
                         ("captured_scancel_other_user", "46")):
        with pytest.raises(JobNotFoundError) as err:
            D.parse_cancel(golden(name), job_id)
        assert err.value.job_id == job_id
    with pytest.raises(SchedulerError):
        D.parse_cancel(CommandResult(argv=("scancel",), exit_status=1, stdout="", stderr="boom"), "1")


def test_cancel_success_is_judged_for_the_asked_id(golden: Golden) -> None:
    """Exit 0 proves nothing (``scancel --help`` exits 0): only ``Terminating job <id>``."""
    with pytest.raises(SchedulerError, match="did not confirm"):
        D.parse_cancel(golden("captured_scancel_running"), "4")
    usage = CommandResult(argv=("scancel", "--help"), exit_status=0, stdout="Usage: scancel [OPTIONS] ...\n",
                          stderr="")
    with pytest.raises(SchedulerError, match="did not confirm"):
        D.parse_cancel(usage, "41")


@pytest.mark.parametrize("bad", ["-u rjalice", "-urjalice", "--help", "0", "", "12 13", "12\n", "../1",
                                 "1_", "_1", "1,2", "１２", "12;x"])
def test_ids_outside_slurms_grammar_never_reach_a_command(bad: str) -> None:
    assert not D.valid_id(bad)
    with pytest.raises(JobNotFoundError):
        D.cancel_command(bad)
    with pytest.raises(JobNotFoundError):
        D.status_command([bad])
    assert D.cancel_command("12_3").argv[-2:] == ("--", "12_3")


# -- states ----------------------------------------------------------------------------
def test_every_documented_state_word_maps_and_unknown_is_unknown() -> None:
    for word, state in D.state_map.items():
        assert D.map_state(word) is state
        assert D.map_state(f"{word} by 1000") is state
    assert D.map_state("CANCELLED+") is JobState.CANCELLED
    assert D.map_state("NEW_IN_SLURM_99") is JobState.UNKNOWN and D.map_state("") is JobState.UNKNOWN


def test_errors_are_remotejobs_errors() -> None:
    assert issubclass(SchedulerError, RemoteJobsError) and issubclass(SubmissionError, RemoteJobsError)


def test_array_aggregate_does_not_depend_on_output_order(golden: Golden) -> None:
    result = golden("captured_squeue_status")
    array_lines = [ln for ln in result.stdout.splitlines() if ln.endswith("|probe array|pipe")]
    array = array_lines[0].split("|")[1]
    for lines in (array_lines, array_lines[::-1]):
        shuffled = result.model_copy(update={"stdout": "\n".join(lines) + "\n"})
        whole = D.parse_status(shuffled, [array])[array]
        assert (whole.state, whole.exit_code) == (JobState.FAILED, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-22T03:25:55", datetime(2026, 11, 22, 3, 25, 55)),
        (" 2026-11-22T03:25:55 ", datetime(2026, 11, 22, 3, 25, 55)),
        ("N/A", None), ("Unknown", None), ("", None), ("(null)", None),
        ("2026-11-22 03:25:55", None),  # not Slurm's form
        ("2026-11-22T03:25:55+01:00", None),  # fromisoformat would take it; Slurm never prints it
        ("2026-13-22T03:25:55", None),  # impossible date
        ("+026-11-22T03:25:55", None),
    ],
)
def test_times_are_slurms_iso_form_only(text: str, expected: datetime | None) -> None:
    from remotejobs_slurm._parse import parse_time

    assert parse_time(text) == expected


def test_many_arrays_are_aggregated_in_one_pass() -> None:
    """Elements of many arrays mixed with plain jobs: each array id gets its own
    elements' aggregate, a plain id its row, an absent id nothing."""
    line = "{id}|{arr}|{state}|0|None|rjalice|debug|2026-12-07T01:00:00|2026-12-07T01:00:01|N/A|a"
    rows = [line.format(id=f"{a}_{k}", arr=a, state="RUNNING" if (a, k) == (7, 3) else "PENDING")
            for a in range(5, 10) for k in range(50)]
    rows += [line.format(id="42", arr="42", state="COMPLETED")]
    result = CommandResult(argv=("squeue",), exit_status=0, stdout="\n".join(rows) + "\n", stderr="")
    got = SlurmDialect().parse_status(result, ["7", "8", "42", "99"])
    assert set(got) == {"7", "8", "42"}
    assert got["7"].state is JobState.RUNNING and "50 elements" in (got["7"].reason or "")
    assert got["8"].state is JobState.QUEUED
    assert got["42"].state is JobState.COMPLETED


def test_newlines_in_other_users_job_names_are_contained_not_fatal() -> None:
    """squeue prints names verbatim (a name given to sbatch directly may hold newlines and
    whole forged rows, as rjbob's did on the test cluster): a non-row line continues the
    name before it, and an id two rows claim is ignored instead of trusted."""
    forged = "42|42|COMPLETED|0|None|rjalice|debug|2026-12-07T01:25:02|N/A|N/A|victim"
    out = ("9552|9552|RUNNING|0|None|rjbob|debug|2026-12-07T01:25:02|2026-12-07T01:25:02|N/A|x\n\n"
           "Job Id:\t42\n\tjob_state = C\n"
           f"9553|9553|RUNNING|0|None|rjbob|debug|2026-12-07T01:25:02|N/A|N/A|y\n{forged}\n"
           "42|42|RUNNING|0|None|rjalice|debug|2026-12-07T01:25:02|2026-12-07T01:25:02|N/A|victim\n"
           "9560|9560|PENDING|0|None|rjbob|debug|2026-12-07T01:25:05|N/A|N/A|fs\x1cgs\x85ls\u2028ps\n")
    result = CommandResult(argv=("squeue",), exit_status=0, stdout=out, stderr="")
    infos = D.parse_status(result, ["42", "9552", "9553", "9560"])
    assert "42" not in infos, "a row forged inside a name was trusted"
    assert infos["9552"].name == "x\n\nJob Id:\t42\n\tjob_state = C"
    assert infos["9560"].name == "fs\x1cgs\x85ls\u2028ps" and infos["9560"].state is JobState.QUEUED


def test_a_listing_converts_only_the_asked_rows_and_keeps_every_defence() -> None:
    """Past the bulk threshold, status reads the user's whole listing: the asked ids
    (and the elements of asked arrays) give the same infos as a parse of those rows
    alone; unasked rows still count for the forged-duplicate check and still take the
    continuation lines of their names."""
    line = "{id}|{arr}|{state}|0|None|rjalice|debug|2026-12-07T01:00:00|{start}|N/A|n{id}"
    rows = [line.format(id=str(100 + i), arr=str(100 + i), state="RUNNING" if i % 3 else "PENDING",
                        start="2026-12-07T01:00:01" if i % 3 else "N/A") for i in range(300)]
    rows += [line.format(id=f"900_{k}", arr="900", state="PENDING", start="N/A") for k in range(5)]
    forged = line.format(id="150", arr="150", state="COMPLETED", start="N/A")
    rows[10] += f"\nnot a row\n{forged}"  # inside the name of unasked job 110
    listing = CommandResult(argv=("squeue",), exit_status=0, stdout="\n".join(rows) + "\n", stderr="")
    asked = ["105", "150", "299", "900", "404"]
    got = SlurmDialect().parse_status(listing, asked)
    assert set(got) == {"105", "299", "900"}, "150 is claimed twice (forged) and 404 is absent"
    alone = "\n".join(r for r in rows if r.split("|")[0] in ("105", "299") or r.startswith("900_")) + "\n"
    expected = SlurmDialect().parse_status(listing.model_copy(update={"stdout": alone}), asked)
    assert got == expected
    assert all(JobInfo.model_validate(i.model_dump()) == i for i in got.values())
    assert got["900"].reason == "job array of 5 elements: 5 QUEUED"
    whole = SlurmDialect().parse_status(listing, ["110"])["110"]
    assert whole.name == "n110\nnot a row"


def test_array_aggregate_reads_element_times_and_its_chosen_elements_exit() -> None:
    """An array's aggregate from light element tuples equals the aggregate of the
    elements' full infos (earliest start, latest end once final, lowest failed index)."""
    line = "{id}|44|{state}|{code}|{reason}|rjalice|debug|2026-12-07T01:00:00|{start}|{end}|arr"
    rows = [line.format(id="44_7", state="FAILED", code="512", reason="NonZeroExitCode",
                        start="2026-12-07T01:00:05", end="2026-12-07T01:00:09"),
            line.format(id="44_2", state="FAILED", code="768", reason="NonZeroExitCode",
                        start="2026-12-07T01:00:03", end="2026-12-07T01:00:04"),
            line.format(id="44_1", state="COMPLETED", code="0", reason="None",
                        start="2026-12-07T01:00:02", end="2026-12-07T01:00:11")]
    result = CommandResult(argv=("squeue",), exit_status=0, stdout="\n".join(rows) + "\n", stderr="")
    dialect = SlurmDialect()
    whole = dialect.parse_status(result, ["44"])["44"]
    elements = dialect.parse_status(result, ["44_7", "44_2", "44_1"])
    assert whole == aggregate_array("44", list(elements.values()))
    assert (whole.state, whole.exit_code) == (JobState.FAILED, 3)
    assert (whole.start_time, whole.end_time) == (datetime(2026, 12, 7, 1, 0, 2), datetime(2026, 12, 7, 1, 0, 11))
