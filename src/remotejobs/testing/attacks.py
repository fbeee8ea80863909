"""Hostile-input checks every backend passes, mixed into :class:`ResourceContract`.

Each class of attack here broke a backend once (issue "Security and reliability"): job ids
read as options (``scancel -u<user>``, ``bkill 0``, ``qdel all``, ``--help``), as paths
(``download("../../.ssh")``) or as URL segments (``status("../logout")``). A canary job of
the same user, which must never be touched, is checked after every attempt.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from remotejobs.errors import JobNotFoundError
from remotejobs.models import JobSpec
from remotejobs.resource import ComputeResource

__all__ = ["HostileIdContract", "hostile_ids"]


def hostile_ids(user: str, canary: str) -> list[str]:
    """Ids that are no job of ``user`` and must be refused before anything is sent.

    Ordered so that, on a backend without id validation, a harmless one fails first."""
    return [
        "--help", "-h", "--version",
        "../../.ssh", "../../.ssh/authorized_keys", "/etc", "/", "..", ".", "", " ",
        "../logout", f"../jobOperation/kill/{canary}", f"{canary}/../..", f"{canary}/..",
        f"{canary}%2F..", f"{canary}?x=1", f"{canary}#x", f"{canary};true", f"{canary} {canary}",
        f"{canary}\n", f" {canary}", f"{canary}\0", f"{canary}\t", "１２３", "1e3", "0x10", "-1",
        f"-u{user}", "-u", user, f"--user={user}", "-a", "-p", "-W", "0", "00", "all", "ALL",
        "$(id)", "`id`", "a" * 10000, "9" * 10000,
    ]


class HostileIdContract:
    """Provide the ``session`` and ``contract_env`` fixtures (as ResourceContract does)."""

    def test_hostile_job_ids_are_refused_and_touch_nothing(
        self, session: ComputeResource, tmp_path: Path
    ) -> None:
        canary = session.submit(JobSpec(executable="/bin/sh", arguments=("-c", "sleep 600"),
                                        name="canary-never-touch"))
        try:
            target = tmp_path / "download"
            ids = hostile_ids(session.user or "nobody", canary.id)
            for bad in ids:
                with pytest.raises(JobNotFoundError):
                    session.cancel(bad)
                with pytest.raises(JobNotFoundError):
                    session.status(bad)
                with pytest.raises(JobNotFoundError):
                    session.download(bad, target)
                assert not target.exists(), f"download({bad!r}) wrote files"
                assert session.logged_in, f"status({bad!r}) ended the session"
            assert session.status_many(ids) == {}
            assert not session.status(canary).state.is_final, "the canary job was touched"
        finally:
            session.cancel(canary)
