"""Demo: submit a job on the built-in ``local`` backend, follow it, fetch its output.

Run with ``make demo`` (or ``python examples/demo.py`` in the project's virtualenv).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import remotejobs
from remotejobs import JobSpec, JobState

SCRIPT = """
echo "reducing run $1 on $(hostname)"
for step in 1 2 3; do echo "step $step of 3"; sleep 0.5; done
echo "result: $(( $2 * 7 ))" > result.txt
echo done
"""


def main() -> None:
    print(f"installed backends: {', '.join(remotejobs.available_backends())}")
    with remotejobs.open_resource("local") as resource:
        resource.login()
        print(f"logged in to {resource.name!r} as {resource.user!r}; ping: {resource.ping()}")
        spec = JobSpec(executable="/bin/sh", arguments=("-c", SCRIPT, "demo", "MAP12345", "6"),
                       name="demo reduction")
        job = resource.submit(spec)
        print(f"submitted job {job.id}")
        last: JobState | None = None
        while True:
            info = job.status()
            if info.state is not last:
                print(f"  state: {info.state.value}")
                last = info.state
            if info.state.is_final:
                break
            time.sleep(0.1)
        print(f"finished: {info.state.value}, exit code {info.exit_code}")
        with tempfile.TemporaryDirectory() as tmp:
            for path in job.download(Path(tmp)):
                print(f"--- {path.name} ---")
                print(path.read_text(encoding="utf-8"), end="")
        if info.state is not JobState.COMPLETED:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
