"""Resources of any SSH backend, opened as one of a test cluster's users.

The project's root ``conftest.py`` serves :class:`ClusterSessions` as the fixtures
``cluster_session`` (closed after the test) and ``module_cluster_session`` (after the
module), so a plugin's tests open a logged-in resource in one line instead of repeating
the settings, login and close of every fixture.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from remotejobs.resource import ComputeResource

__all__ = ["ClusterSessions"]

R = TypeVar("R", bound=ComputeResource)


class ClusterSessions:
    """Opens resources as the cluster's users; :meth:`close_all` closes every one opened.

    ``ssh_settings`` are the settings reaching the cluster's sshd (host, port, known hosts;
    no user); ``users`` the cluster's users, each a mapping with ``name`` and ``key_file``.
    """

    def __init__(self, ssh_settings: Mapping[str, Any], users: Sequence[Mapping[str, Any]]) -> None:
        self.ssh_settings, self.users = dict(ssh_settings), users
        self.opened: list[ComputeResource] = []

    def __call__(self, resource_cls: Callable[..., R], settings_cls: Callable[..., Any], name: str, *,
                 user: int = 0, **settings: Any) -> R:
        """A ``resource_cls`` named ``name`` with ``settings_cls(ssh settings + user number
        ``user``'s name and key file + settings)`` (``settings`` add to or override the
        others), logged in as that user; closed by :meth:`close_all`."""
        who = self.users[user]
        values = {**self.ssh_settings, "username": who["name"], "key_file": who["key_file"], **settings}
        resource = resource_cls(settings_cls(**values), name=name)
        self.opened.append(resource)
        resource.login(who["name"])
        return resource

    def close_all(self) -> None:
        """Closes every resource opened (each once; the list is emptied)."""
        opened, self.opened = self.opened, []
        for resource in opened:
            resource.close()
