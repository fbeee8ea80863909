"""The exit-marker command the batch backends run on the cluster, run here by a real sh."""

from __future__ import annotations

import os
from pathlib import Path

from remotejobs.scheduler.script import parse_markers, parse_started, read_markers_argv
from remotejobs.transport.local import LocalTransport


def test_markers_and_started_jobs_are_told_apart(tmp_path: Path) -> None:
    index, job_dir = tmp_path / "ids", tmp_path / "jobs" / "a"
    index.mkdir()
    job_dir.mkdir(parents=True)
    for job_id in ("11", "12", "13_2"):
        os.symlink(job_dir, index / job_id)
    (index / "11.exit").write_text("0\n")
    (index / "13_2.exit").write_text("signal\n")
    ids = ["11", "12", "13_2", "99", "$(touch pwned)"]
    out = LocalTransport().run(read_markers_argv(str(index), ids)).stdout
    assert parse_markers(out) == {"11": "0", "13_2": "signal"}
    assert parse_started(out) == {"11", "12", "13_2"}
    assert not (index / "pwned").exists() and not Path("pwned").exists()


def test_missing_index_dir_means_nothing_known(tmp_path: Path) -> None:
    out = LocalTransport().run(read_markers_argv(str(tmp_path / "none"), ["1"])).stdout
    assert parse_markers(out) == {} and parse_started(out) == set()
