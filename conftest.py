"""Shared pytest fixtures: the real test cluster (tests/cluster/up) and SSH settings for it."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # imported by pytest_plugins below (an earlier import defeats assert rewriting)
    from remotejobs.testing.sentinel import Sentinel
    from remotejobs.testing.sessions import ClusterSessions

_FIXTURE = Path(__file__).parent / "tests" / "cluster" / "fixture.py"

# Every log record of the run searched for planted secrets; the attack scoreboard at the end.
pytest_plugins = ["remotejobs.testing.sentinel"]


def _load_cluster_info() -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location("remotejobs_test_cluster", _FIXTURE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    info: dict[str, Any] = module.cluster_info()
    return info


@pytest.fixture(scope="session")
def cluster() -> dict[str, Any]:
    """The JSON document printed by tests/cluster/up (brings the cluster up if needed)."""
    return _load_cluster_info()


@pytest.fixture(scope="session")
def ssh_settings(cluster: dict[str, Any]) -> dict[str, Any]:
    """BatchSettings keys reaching the test cluster over SSH (no user: give it at login)."""
    ssh = cluster["ssh"]
    return {
        "host": ssh["host"],
        "port": ssh["port"],
        "known_hosts": ssh["known_hosts_file"],
        "use_agent": False,
    }


@pytest.fixture(scope="session")
def cluster_users(cluster: dict[str, Any], secret_sentinel: Sentinel) -> list[dict[str, Any]]:
    """The two unprivileged users: name, password, key_file, home (passwords planted as
    secrets: no log record, error, command line or readable file of the run may contain
    them; their homes and the SDK's state directory are searched at the end)."""
    users: list[dict[str, Any]] = cluster["users"]
    for user in users:
        secret_sentinel.plant(user["password"], f"password of {user['name']}")
        secret_sentinel.watch_files(user["home"], shared=True)  # files others may read: no secret
    secret_sentinel.watch_files(os.environ["REMOTEJOBS_STATE_DIR"], shared=False)  # the SDK's state
    return users


@pytest.fixture
def cluster_session(ssh_settings: dict[str, Any], cluster_users: list[dict[str, Any]]) -> Iterator[ClusterSessions]:
    """``cluster_session(ResourceClass, SettingsClass, name, user=0, **settings)``: a resource
    of that backend on the test cluster over SSH (``ssh_settings`` plus cluster user
    ``user``'s name and key file; ``settings`` add to or override them), logged in as that
    user; every one opened is closed after the test."""
    from remotejobs.testing.sessions import ClusterSessions  # here, not above: see TYPE_CHECKING

    sessions = ClusterSessions(ssh_settings, cluster_users)
    yield sessions
    sessions.close_all()


@pytest.fixture(scope="module")
def module_cluster_session(ssh_settings: dict[str, Any],
                           cluster_users: list[dict[str, Any]]) -> Iterator[ClusterSessions]:
    """:func:`cluster_session` for module-scoped fixtures (closed after the module)."""
    from remotejobs.testing.sessions import ClusterSessions  # here, not above: see TYPE_CHECKING

    sessions = ClusterSessions(ssh_settings, cluster_users)
    yield sessions
    sessions.close_all()


def pytest_configure(config: pytest.Config) -> None:
    """State (local jobs, workflow journals, sessions) under .pytest_state; each pytest-xdist
    worker (``make test`` runs several) gets its own subdirectory, as separate runs would."""
    base = os.environ.setdefault("REMOTEJOBS_STATE_DIR", str(Path(config.rootpath) / ".pytest_state"))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:  # the controller's value, inherited
        os.environ["REMOTEJOBS_STATE_DIR"] = str(Path(base) / worker)
