"""The PARK workflow (PARK 1.x "Workflow management", DANSE project, 2009) in remotejobs.

PARK's script reduces a large file on one cluster (``sns``), fetches the result to another
(``compufans``) when the reduction completes, uploads a locally defined model, runs a
prefit simulation once the upload is there, and starts the fit when both the simulation
and the fetch have completed; rerunning it after a failure must not redo finished work.
The same here, as a plain script::

    python examples/park_workflow.py --reduce-on slurm --fit-on lsf --model mymodel.py

``--reduce-on``/``--fit-on`` are resource names from the remotejobs configuration. Running
it again submits nothing (the journal remembers every step); changing the model file
reruns only the upload, the simulation and the fit. ``remotejobs workflow status park``
shows the steps from another shell. Prints one JSON line per step at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import remotejobs
from remotejobs import JobSpec
from remotejobs.workflow import Workflow

# Stand-ins for SnsReduce, mymodel.prefit_simulation and park.Fit: small shell programs.
REDUCE = 'echo "reduced from $1" > bigfile.refl; sleep 2'
SIMULATE = 'cat "$1" > model.out; echo "simulated" >> model.out'
FIT = 'cat "$1" "$2" > fit.out; echo "fit ok" >> fit.out; cat fit.out'


def sh(script: str, *args: str) -> JobSpec:
    return JobSpec(executable="/bin/sh", arguments=("-c", script, "sh", *args))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reduce-on", default="slurm", help="resource of the reduction (PARK's sns)")
    parser.add_argument("--fit-on", default="lsf", help="resource of the rest (PARK's compufans)")
    parser.add_argument("--model", type=Path, required=True, help="the local model file to upload")
    parser.add_argument("--name", default="park", help="workflow (journal) name")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)
    started = time.monotonic()

    sns = remotejobs.open_resource(args.reduce_on)
    compufans = remotejobs.open_resource(args.fit_on)
    with Workflow(args.name) as wf:
        # Start reduction on the SNS cluster.
        reduction = sns.submit(sh(REDUCE, "/snsdata/RefL/bigfile.nxs"), name="reduction")
        # Rather than naming the resource for each request, set the default for a group.
        with compufans:
            # Transfer my model to the cluster (skipped when this content is already there).
            upload = wf.upload(args.model, "park/models", name="upload")
            # Copy the reduced file from the SNS cluster when the reduction is complete;
            # the bytes stream through this client.
            fetch = wf.copy(reduction.file("bigfile.refl"), "park/data", name="fetch")
            # The prefit simulation starts when the upload is there.
            model = remotejobs.submit(sh(SIMULATE, str(upload.file(args.model.name))),
                                               after=upload.done, name="model")
            # The fit, on files that do not exist yet: their paths are filled in when it starts.
            remotejobs.submit(sh(FIT, str(model.file("model.out")), str(fetch.file("bigfile.refl"))),
                                             after=model.done & fetch.done, name="fit")
            outcomes = wf.wait(progress=False if args.quiet else None)
        for step in wf.steps:
            print(json.dumps({"step": step.label, "state": step.state.value, "job": step.job_id,
                              "resource": step.resource.name, "reason": step.reason}))
    print(json.dumps({"seconds": round(time.monotonic() - started, 3)}))
    return 0 if all(o.state.value == "COMPLETED" for o in outcomes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
