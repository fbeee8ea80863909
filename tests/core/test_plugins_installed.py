"""Third-party plugins installed into a throwaway environment, found by entry point.

The environment is a real venv that sees this project's site-packages through a .pth
file; the plugins are real distributions built and installed by pip. Nothing in the core
is changed or monkeypatched.
"""

from __future__ import annotations

import json
import site
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

RESOURCE = '''
from __future__ import annotations
from collections.abc import Sequence
from typing import ClassVar
from remotejobs import BackendSettings, ComputeResource, JobInfo, JobSpec, JobState, JobNotFoundError

class EchoSettings(BackendSettings):
    greeting: str = "hello"

class EchoResource(ComputeResource):
    backend_name: ClassVar[str] = "echo"
    settings_model: ClassVar[type[BackendSettings]] = EchoSettings

    def _login(self, username, password):
        self.jobs_done: dict[str, JobInfo] = {}
        return username or "echo-user"

    def _ping(self):
        return True

    def _submit(self, spec: JobSpec) -> str:
        job_id = str(len(self.jobs_done) + 1)
        self.jobs_done[job_id] = JobInfo(id=job_id, state=JobState.COMPLETED, exit_code=0,
                                         command=self.settings.greeting)
        return job_id

    def _status_many(self, ids: Sequence[str]):
        return {i: self.jobs_done[i] for i in ids if i in self.jobs_done}

    def _jobs(self):
        return list(self.jobs_done.values())

    def _cancel(self, job_id):
        if job_id not in self.jobs_done:
            raise JobNotFoundError(job_id)
'''

PLUGIN = '''
import remotejobs

@remotejobs.hookimpl
def remotejobs_register_backends(registry):
    registry.add("{backend}", "{package}.resource:EchoResource", summary="test backend")
'''

CHECK = '''
import json, sys, remotejobs
from remotejobs import JobSpec
from remotejobs.errors import RemoteJobsError
out = {"backends": remotejobs.available_backends()}
r = remotejobs.open_resource("greeter")
job = r.submit(JobSpec(executable="true"))
info = job.wait(timeout=5)
out["state"] = info.state.value
out["command"] = info.command
for name in ("broken", "local", "nosuch"):
    try:
        remotejobs.open_resource(backend=name)
        out[name] = "opened"
    except RemoteJobsError as exc:
        out[name] = [type(exc).__name__, str(exc), repr(exc.__cause__)]
out["paramiko_imported"] = "paramiko" in sys.modules
print(json.dumps(out))
'''


def _dist(root: Path, dist: str, package: str, ep_name: str, plugin_body: str, resource: str = "") -> Path:
    folder = root / dist
    (folder / package).mkdir(parents=True)
    (folder / "pyproject.toml").write_text(textwrap.dedent(f'''
        [build-system]
        requires = ["setuptools"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "{dist}"
        version = "1.0"
        [project.entry-points."remotejobs.plugins"]
        {ep_name} = "{package}.plugin"
        [tool.setuptools]
        packages = ["{package}"]
    '''))
    (folder / package / "__init__.py").write_text("")
    (folder / package / "plugin.py").write_text(plugin_body)
    if resource:
        (folder / package / "resource.py").write_text(resource)
    return folder


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plugins")
    env = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    target = next((env / "lib").glob("python*/site-packages"))
    # addsitedir also processes the parent's .pth files (the editable core install)
    lines = [f"import site; site.addsitedir({d!r})" for d in site.getsitepackages()]
    (target / "_parent.pth").write_text("\n".join(lines) + "\n")
    dists = [
        _dist(root, "acme-echo", "acme_echo", "echo", PLUGIN.format(backend="echo", package="acme_echo"),
              RESOURCE),
        _dist(root, "acme-broken", "acme_broken", "broken", "raise ImportError('acme_broken needs libfoo')"),
        _dist(root, "acme-dup", "acme_dup", "dup", PLUGIN.format(backend="local", package="acme_dup"), RESOURCE),
    ]
    for folder in dists:
        subprocess.run(
            [str(env / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
             "--no-index", "--target", str(target), str(folder)],
            check=True, capture_output=True,
        )
    return env


def test_third_party_plugin_opens_by_configuration_name(plugin_env: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[resources.greeter]\nbackend = "echo"\ngreeting = "bonjour"\n')
    done = subprocess.run(
        [str(plugin_env / "bin" / "python"), "-c", CHECK],
        env={"REMOTEJOBS_CONFIG": str(config), "REMOTEJOBS_STATE_DIR": str(tmp_path / "state"),
             "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert "echo" in out["backends"]
    assert out["state"] == "COMPLETED" and out["command"] == "bonjour"
    # the broken plugin is reported when its backend is asked for, the others still work
    assert out["broken"][0] == "BackendLoadError"
    assert "acme-broken" in out["broken"][1] and "libfoo" in out["broken"][2]
    # two plugins claim 'local': the name is refused, naming both distributions
    assert out["local"][0] == "BackendConflictError"
    assert "acme-dup" in out["local"][1] and "remotejobs" in out["local"][1]
    assert out["nosuch"][0] == "BackendNotFoundError" and "echo" in out["nosuch"][1]
    assert out["paramiko_imported"] is False
