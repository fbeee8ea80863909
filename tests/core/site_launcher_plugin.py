"""A site's launcher plugin, as a site would ship it (registered in tests through pluggy,
as its entry point would be): ``xrun`` puts a starter in front of the program, the way
``aprun -n N`` does on a Cray. The starter here is ``env`` (present everywhere), telling
the program how many ranks it was given."""

from __future__ import annotations

from typing import ClassVar

import remotejobs
from remotejobs.launchers import Launch, PrefixLauncher
from remotejobs.registry import BackendRegistry


class XrunLauncher(PrefixLauncher):
    """``env XRUN_RANKS=<processes> <program>``, for Slurm and PBS sites only."""

    name: ClassVar[str] = "xrun"
    schedulers: ClassVar[frozenset[str] | None] = frozenset({"slurm", "pbs"})

    def prefix(self, launch: Launch) -> list[str]:
        return ["env", f"XRUN_RANKS={launch.processes}"]


@remotejobs.hookimpl
def remotejobs_register_launchers(registry: BackendRegistry) -> None:
    registry.add_launcher("xrun", XrunLauncher)
