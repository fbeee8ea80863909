"""A client process for test_faults.py: one workflow step on Slurm, waited for.

``python crash_client.py <settings JSON> <workflow name> <state dir>``; prints one JSON
line ``{"job": id, "state": ..., "name": ...}``. The test SIGKILLs it while sbatch holds
its answer back, then runs it again: the journal's token must find the job.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from remotejobs_slurm import SlurmResource, SlurmSettings

from remotejobs import JobSpec
from remotejobs.workflow import Workflow


def main(settings_json: str, name: str, state_dir: str) -> int:
    settings = SlurmSettings(**json.loads(settings_json))
    resource = SlurmResource(settings, name="slurm-crash")
    resource.login(settings.username)
    with Workflow(name, journal_dir=Path(state_dir) / "workflows", poll_interval=0.5) as wf:
        resource.submit(JobSpec(executable="/bin/sh", arguments=("-c", "sleep 1")), name="crash")
        outcomes = wf.wait(progress=False)
        step = wf.steps[0]
        print(json.dumps({"job": step.job_id, "state": step.state.value,
                          "outcomes": sorted(o.state.value for o in outcomes.values())}))
    resource.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
