"""The submit and status cases on the LSF and Torque emulators of the test cluster
(``tests/cluster/emulators``: they run real jobs on the cluster's Slurm). Reported, not
compared: an emulator's own cost (a Python program per command) is not a real
scheduler's, so no reference of the same run stands beside it.
"""

from __future__ import annotations

from typing import Any

from remotejobs_lsf import LsfResource, LsfSettings
from remotejobs_torque import TorqueResource, TorqueSettings

from benchmarks._common import Comparison, Row, timed
from benchmarks._context import Context
from remotejobs.models import JobSpec

EMULATORS: tuple[tuple[str, Any, Any, str], ...] = (
    ("LSF emulator", LsfResource, LsfSettings, "lsf_emulator"),
    ("Torque emulator", TorqueResource, TorqueSettings, "torque_emulator"),
)


def emulators(ctx: Context) -> list[Comparison]:
    """Milliseconds per submitted job and per status call for the submitted ids."""
    n = 3 if ctx.smoke else 20
    repeat = 3 if ctx.smoke else 7
    spec = JobSpec(executable="/bin/true", name="rjbench")
    out = []
    for label, resource_class, settings_class, command in EMULATORS:
        settings = settings_class(host=ctx.host, port=ctx.port, username=ctx.user, key_file=ctx.key_file,
                                  known_hosts=ctx.known_hosts, use_agent=False,
                                  bin_dir=ctx.info["commands"][command])
        resource = resource_class(settings, name="bench-" + label.split()[0].lower())
        resource.login(ctx.user)
        ctx.resources.append(resource)
        resource.submit(spec)  # warm: connection, job root
        ids: list[str] = []
        submit_ms = timed(lambda r=resource, into=ids: into.append(r.submit(spec).id), n)  # type: ignore[misc]
        got = resource.status_many(ids)
        if len(got) != len(ids):
            raise SystemExit(f"{label}: status_many returned {len(got)} of {len(ids)} jobs")
        status_ms = timed(lambda r=resource, asked=ids: r.status_many(asked), repeat)  # type: ignore[misc]
        submit_case, status_case = f"submit one job ({label})", f"status of {n} ids ({label})"
        out += [Comparison(submit_case, Row(submit_case, "remotejobs over SSH", "ms", submit_ms), [], "reported"),
                Comparison(status_case, Row(status_case, "remotejobs over SSH", "ms", status_ms), [], "reported")]
    return out
