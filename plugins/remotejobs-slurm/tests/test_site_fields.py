"""JobSpec site fields on Slurm: rendered as sbatch(1) options, and honoured by the real
slurmctld of the test cluster (read back with ``scontrol show job``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from remotejobs_slurm import SlurmResource, SlurmSettings
from remotejobs_slurm.dialect import SlurmDialect

from remotejobs.errors import SubmissionError
from remotejobs.models import JobSpec, JobState
from remotejobs.scheduler.dialect import ScriptContext

CTX = ScriptContext(job_dir="/h/j", index_dir="/h/i", workdir="/h/w d", stdout="/h/j/o", stderr="/h/j/e")


def test_every_site_field_becomes_its_sbatch_option() -> None:
    spec = JobSpec(executable="x", account="imaging", qos="short", reservation="maint", constraint="fast&ssd",
                   exclusive=True, cores_per_process=2, gpus_per_node=1, memory_mb_per_process=1000, stdin="in.txt",
                   nice=5, begin=datetime(2030, 1, 2, 3, 4, 5), email="a@b.c", email_on=frozenset({"end", "fail"}),
                   array="0-9", array_limit=2, scheduler_options={"slurm": ("--licenses=matlab:1", "--requeue"),
                                                                  "lsf": ("-x",)})
    lines = SlurmDialect().directives(spec, CTX)
    for expected in ("--account=imaging", "--qos=short", "--reservation=maint", "--exclusive", "--cpus-per-task=2",
                     "--gpus-per-node=1", "--mem-per-cpu=500M", "--nice=5", "--begin=2030-01-02T03:04:05",
                     "--mail-user=a@b.c", "--mail-type=END,FAIL", "--array=0-9%2", "--licenses=matlab:1",
                     "--requeue"):
        assert f"#SBATCH {expected}" in lines
    assert "-x" not in " ".join(lines)  # another scheduler's option is not Slurm's
    # Values that are not plain travel as argv words (quoted by the transport), not directives:
    argv = SlurmDialect().submit_command(spec, CTX, "/h/j/s").argv
    assert "--constraint=fast&ssd" in argv


@pytest.fixture
def resource(ssh_settings: dict[str, Any], cluster_users: list[dict[str, Any]]) -> Iterator[SlurmResource]:
    user = cluster_users[0]
    settings = SlurmSettings(**ssh_settings, key_file=user["key_file"], default_queue="debug")
    with SlurmResource(settings, name="slurm-site-fields") as res:
        res.login(user["name"])
        yield res


def _show(resource: SlurmResource, job_id: str) -> dict[str, str]:
    text = resource.transport.run(["scontrol", "show", "job", "--oneliner", job_id]).stdout
    return dict(re.findall(r"(\w+)=(\S*)", text))


@pytest.mark.cluster
def test_slurm_records_the_site_fields(resource: SlurmResource) -> None:
    begin = (datetime.now() + timedelta(hours=2)).replace(microsecond=0)
    job = resource.submit(JobSpec(executable="/bin/true", name="site-fields", account="imaging", nice=7,
                                  exclusive=True, cores_per_process=1, begin=begin, email="rj@example.org",
                                  email_on=frozenset({"end"}), scheduler_options={"slurm": ("--comment=rjsite",)}))
    try:
        shown = _show(resource, job.id)
        assert shown["Account"] == "imaging"
        assert shown["Nice"] == "7"
        # --exclusive is sent (see the test above) but not observable here: the test
        # cluster's partition has OverSubscribe=FORCE, which overrides it.
        assert shown["Reason"] == "BeginTime" and shown["StartTime"] == begin.isoformat()
        assert shown["MailUser"] == "rj@example.org" and shown["MailType"] == "END"
        assert shown["Comment"] == "rjsite"
        assert job.status().state is JobState.QUEUED
    finally:
        job.cancel()


@pytest.mark.cluster
def test_array_limit_and_stdin_are_honoured(resource: SlurmResource, tmp_path: Path) -> None:
    data = tmp_path / "in.txt"
    data.write_text("from stdin\n")
    remote_dir = f"site-fields-{job_token()}"
    resource.upload(data, remote_dir)
    job = resource.submit(JobSpec(executable="/bin/cat", directory=remote_dir, stdin="in.txt", name="stdin"))
    assert job.wait(timeout=300).state is JobState.COMPLETED
    out = resource.download(job, tmp_path / "out", name="stdout")
    assert out[0].read_text() == "from stdin\n"
    array = resource.submit(JobSpec(executable="/bin/true", name="throttled", array="0-3", array_limit=1,
                                    begin=datetime.now() + timedelta(hours=1)))
    try:
        assert _show(resource, array.id)["ArrayTaskThrottle"] == "1"
    finally:
        array.cancel()


@pytest.mark.cluster
def test_a_constraint_the_cluster_cannot_meet_is_refused_with_slurms_words(resource: SlurmResource) -> None:
    with pytest.raises(SubmissionError, match="Invalid feature specification") as err:
        resource.submit(JobSpec(executable="/bin/true", constraint="nosuchfeature"))
    assert err.value.resource == "slurm-site-fields"


def job_token() -> str:
    import secrets

    return secrets.token_hex(4)


@pytest.mark.cluster
def test_resource_defaults_reach_slurm_and_the_spec_wins(
    ssh_settings: dict[str, Any], cluster_users: list[dict[str, Any]]
) -> None:
    import remotejobs

    user = cluster_users[0]
    resource = remotejobs.open_resource("slurm-defaults", backend="slurm", **ssh_settings, username=user["name"],
                                        key_file=user["key_file"], default_queue="debug",
                                        defaults={"account": "imaging", "nice": 3})
    with resource:
        job = resource.submit(JobSpec(executable="/bin/true", name="defaults", nice=9,
                                      begin=datetime.now() + timedelta(hours=2)))
        try:
            assert isinstance(resource, SlurmResource)
            shown = _show(resource, job.id)
            assert (shown["Account"], shown["Nice"]) == ("imaging", "9")
        finally:
            job.cancel()
