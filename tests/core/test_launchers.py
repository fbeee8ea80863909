"""Launchers: the job script's launch text run by a real bash (no scheduler needed), the
launcher hook with a site plugin, and refusals before anything is sent."""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import time
import types
from pathlib import Path

import pytest

from remotejobs._plugins import add_plugin, make_plugin_manager, register_backends
from remotejobs.errors import UnsupportedOperationError
from remotejobs.launchers import Launch, MpirunLauncher, MultipleLauncher, SrunLauncher
from remotejobs.local._store import SPEC
from remotejobs.local.resource import LocalResource, LocalSettings
from remotejobs.models import JobSpec
from remotejobs.registry import BackendRegistry
from remotejobs.scheduler.dialect import ScriptContext
from remotejobs.scheduler.script import launch_body, render_script

PLUGIN_FILE = Path(__file__).with_name("site_launcher_plugin.py")


def _site_plugin() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("site_launcher_plugin", PLUGIN_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(tmp_path: Path, spec: JobSpec) -> tuple[str, str]:
    """Render ``spec``'s script and run it with bash here; (stdout, exit marker)."""
    for d in ("j", "i", "w"):
        (tmp_path / d).mkdir(exist_ok=True)
    ctx = ScriptContext(job_dir=str(tmp_path / "j"), index_dir=str(tmp_path / "i"), workdir=str(tmp_path / "w"),
                        stdout="", stderr="")
    script = render_script(spec, ctx, [], "t1")
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False)
    return proc.stdout, (tmp_path / "i" / "t1.exit").read_text().strip()


def _sh(script: str, **fields: object) -> JobSpec:
    return JobSpec.model_validate({"executable": "/bin/sh", "arguments": ("-c", script, "sh"), **fields})


def test_multiple_starts_one_copy_per_process_with_its_index(tmp_path: Path) -> None:
    out, marker = _run(tmp_path, _sh('echo "copy $REMOTEJOBS_PROCESS_INDEX of $REMOTEJOBS_PROCESS_COUNT"',
                                     launcher="multiple", nodes=1, processes_per_node=3))
    assert sorted(out.splitlines()) == ["copy 0 of 3", "copy 1 of 3", "copy 2 of 3"]
    assert marker == "0"


def test_multiple_reports_the_first_failure_in_start_order(tmp_path: Path) -> None:
    # copy 2 fails first in time, copy 1 first in start order: psij's multi_launch.sh order
    script = 'i=$REMOTEJOBS_PROCESS_INDEX; [ "$i" = 2 ] && exit 7; [ "$i" = 1 ] && { sleep 0.3; exit 5; }; exit 0'
    _, marker = _run(tmp_path, _sh(script, launcher="multiple", processes_per_node=3))
    assert marker == "5"


def test_stdin_reaches_every_copy(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "in.txt").write_text("data\n")
    out, _ = _run(tmp_path, _sh('read line; echo "$REMOTEJOBS_PROCESS_INDEX:$line"', launcher="multiple",
                               processes_per_node=2, stdin="in.txt"))
    assert sorted(out.splitlines()) == ["0:data", "1:data"]


def test_pre_and_post_launch_files_and_argv_are_never_spliced(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "setup env.sh").write_text("export FROM_PRE='set by a sourced file'\n")
    hostile = "$(touch pwned); `touch pwned2`"
    out, marker = _run(tmp_path, _sh('echo "run: $FROM_PRE"', pre_launch="setup env.sh",
                                     post_launch=("printf", "post <%s>\\n", hostile)))
    assert out.splitlines() == ["run: set by a sourced file", f"post <{hostile}>"]
    assert marker == "0" and not list((tmp_path / "w").glob("pwned*"))


def test_a_failing_pre_launch_ends_the_job_before_the_program(tmp_path: Path) -> None:
    out, marker = _run(tmp_path, _sh("echo ran", pre_launch=("sh", "-c", "echo pre; exit 4"), launcher="multiple"))
    assert out.splitlines() == ["pre"] and marker == "4"
    _, missing = _run(tmp_path, _sh("echo ran", pre_launch="no-such-file.sh"))
    assert missing != "0"


def test_post_launch_runs_after_a_failure_and_fails_only_a_successful_job(tmp_path: Path) -> None:
    out, marker = _run(tmp_path, _sh("exit 3", post_launch=("echo", "cleaned")))
    assert out.splitlines() == ["cleaned"] and marker == "3"
    _, marker = _run(tmp_path, _sh("exit 0", post_launch=("sh", "-c", "exit 9")))
    assert marker == "9"


def test_cancel_reaches_every_copy(tmp_path: Path) -> None:
    """TERM to the script (what a cancel sends) reaches the copies through the launch subshell."""
    for d in ("j", "i", "w"):
        (tmp_path / d).mkdir()
    ctx = ScriptContext(job_dir=str(tmp_path / "j"), index_dir=str(tmp_path / "i"), workdir=str(tmp_path / "w"),
                        stdout="", stderr="")
    spec = _sh('echo $$ > "pid-$REMOTEJOBS_PROCESS_INDEX"; exec sleep 300', launcher="multiple",
               processes_per_node=2)
    proc = subprocess.Popen(["bash", "-c", render_script(spec, ctx, [], "t1")])
    pids = [tmp_path / "w" / f"pid-{i}" for i in (0, 1)]
    deadline = time.monotonic() + 30
    while not all(p.exists() and p.read_text().strip() for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 143
    assert (tmp_path / "i" / "t1.exit").read_text().strip() == "signal"
    for path in pids:
        pid = int(path.read_text())
        deadline = time.monotonic() + 30
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not Path(f"/proc/{pid}").exists(), f"copy {pid} survived the cancel"


def test_no_launcher_keeps_the_plain_body() -> None:
    assert launch_body(JobSpec(executable="x"), "x", None) == "x &"


def test_srun_and_mpirun_texts() -> None:
    launch = Launch(command="prog 'a b'", nodes=2, processes_per_node=3, cores_per_process=4)
    assert SrunLauncher().render(launch) == "srun --nodes=2 --ntasks=6 --cpus-per-task=4 prog 'a b' &\nwait \"$!\""
    text = MpirunLauncher().render(launch)
    assert "mpirun --oversubscribe -n 6 prog 'a b' &" in text and "mpirun -n 6 prog 'a b' &" in text
    assert "REMOTEJOBS_PROCESS_COUNT=6 prog 'a b' &" in MultipleLauncher().render(launch)


def test_a_site_plugin_adds_a_launcher_through_the_hook(tmp_path: Path) -> None:
    registry, pm = BackendRegistry(), make_plugin_manager()
    assert add_plugin(registry, pm, _site_plugin(), "site", "acme-site")
    register_backends(registry, pm)
    assert sorted(registry.launchers) == ["mpirun", "multiple", "srun", "xrun"]
    launcher = registry.launcher("xrun")
    assert launcher.schedulers == frozenset({"slurm", "pbs"})
    text = launch_body(_sh("true", launcher="xrun", processes_per_node=2), "prog", launcher)
    assert "env XRUN_RANKS=2 prog &" in text


def test_a_launcher_name_registered_twice_fails_that_plugin() -> None:
    registry, pm = BackendRegistry(), make_plugin_manager()
    clash = types.ModuleType("acme_clash.plugin")
    exec("import remotejobs\n@remotejobs.hookimpl\ndef remotejobs_register_launchers(registry):\n"
         "    registry.add_launcher('srun', 'x:Y')\n", clash.__dict__)
    assert add_plugin(registry, pm, clash, "clash", "acme-clash")
    register_backends(registry, pm)
    assert "clash" in registry.failures and "already registered" in repr(registry.failures["clash"].error)
    assert sorted(registry.launchers) == ["mpirun", "multiple", "srun"]


def test_unknown_and_unsupported_launchers_are_refused_before_anything_runs(tmp_path: Path) -> None:
    resource = LocalResource(LocalSettings(state_dir=str(tmp_path)), name="lab")
    with pytest.raises(UnsupportedOperationError, match="No launcher named 'nosuch'") as err:
        resource.submit(JobSpec(executable="/bin/true", launcher="nosuch"))
    assert "mpirun, multiple, srun" in str(err.value)
    with pytest.raises(UnsupportedOperationError) as err:
        resource.submit(JobSpec(executable="/bin/true", launcher="srun"))
    assert "launcher='srun'" in str(err.value) and "'local'" in str(err.value) and err.value.resource == "lab"
    assert "multiple" in (err.value.hint or "")
    with pytest.raises(UnsupportedOperationError, match="pre_launch"):
        resource.submit(JobSpec(executable="/bin/true", pre_launch=("true",)))
    assert not list(tmp_path.rglob(SPEC))  # no job was made


def test_launch_steps_are_files_or_argv_lists() -> None:
    assert JobSpec(executable="x", pre_launch=["module", "load", "tomo"]).pre_launch == ("module", "load", "tomo")
    for bad in ([], "", "a\nb", ["a\0"]):
        with pytest.raises(ValueError, match="pre_launch"):
            JobSpec.model_validate({"executable": "x", "pre_launch": bad})
    with pytest.raises(ValueError, match="launcher"):
        JobSpec(executable="x", launcher="Bad Name")
