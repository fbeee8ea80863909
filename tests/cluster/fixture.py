"""Helper for tests: bring up the test cluster and return its description.

    from tests.cluster.fixture import cluster_info   # or import by path
    info = cluster_info()
    info["ssh"]["port"], info["users"][0]["key_file"], ...

Modes (env ``REMOTEJOBS_TEST_CLUSTER``):

* unset / ``native`` (default, and what CI runs): runs ``tests/cluster/up`` on
  this machine (needs root) and parses the one JSON document it prints.
* ``container``: BEST EFFORT, UNTESTED (no Docker engine where this was
  written).  Builds ``tests/cluster/Dockerfile`` with testcontainers, starts it,
  waits for the JSON that ``up --foreground`` prints, copies the users' private
  keys out to a temp dir and rewrites host/port/key paths to the mapped values.
  The container is kept for the life of the process.

The result is cached per process; ``cluster_info(refresh=True)`` re-runs ``up``.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
UP = HERE / "up"
_state: dict[str, Any] = {}  # "info": cached JSON; "container": keeps the container alive


def _stderr_tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _native(timeout: float) -> dict[str, Any]:
    try:
        proc = subprocess.run(
            [str(UP)], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False
        )
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        raise RuntimeError(f"{UP} timed out after {timeout}s:\n{_stderr_tail(err)}") from exc
    if proc.returncode != 0:
        raise RuntimeError(f"{UP} failed with exit {proc.returncode}:\n{_stderr_tail(proc.stderr)}")
    try:
        info: dict[str, Any] = json.loads(proc.stdout)
        return info
    except ValueError as exc:
        msg = f"{UP} printed invalid JSON: {proc.stdout[:500]!r}\n{_stderr_tail(proc.stderr)}"
        raise RuntimeError(msg) from exc


def _container_mode(timeout: float) -> dict[str, Any]:  # pragma: no cover - needs a Docker engine
    try:
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.image import DockerImage
    except ImportError as exc:
        raise RuntimeError("REMOTEJOBS_TEST_CLUSTER=container needs `pip install testcontainers`") from exc
    repo_root = HERE.parent.parent
    image = DockerImage(
        path=str(repo_root), dockerfile_path="tests/cluster/Dockerfile", tag="remotejobs-testcluster"
    )
    image.build()
    container = DockerContainer(str(image)).with_exposed_ports(2222, 2223)
    container.start()
    _state["container"] = container
    deadline = time.monotonic() + timeout
    info: dict[str, Any] | None = None
    while info is None:
        out, err = container.get_logs()
        text = out.decode(errors="replace")
        start, end = text.find("{"), text.rfind("}")  # stdout carries only the JSON document
        if start != -1 and end > start:
            try:
                info = json.loads(text[start : end + 1])
                break
            except ValueError:
                pass
        if time.monotonic() > deadline:
            tail = _stderr_tail(err.decode(errors="replace"))
            raise RuntimeError(f"container did not report the cluster JSON:\n{tail}")
        time.sleep(1)
    keydir = Path(tempfile.mkdtemp(prefix="rj-cluster-keys-"))
    wrapped = container.get_wrapped_container()
    for user in info["users"]:
        rc, key = wrapped.exec_run(["cat", user["key_file"]])
        if rc != 0:
            raise RuntimeError(f"cannot read {user['key_file']} in the container")
        local = keydir / Path(user["key_file"]).name
        local.write_bytes(key)
        os.chmod(local, 0o600)
        user["key_file"] = str(local)
    host, port = container.get_container_host_ip(), int(container.get_exposed_port(2222))
    info["ssh"].update(host=host, port=port)
    host_part = host if port == 22 else f"[{host}]:{port}"
    info["ssh"]["known_hosts_line"] = f"{host_part} {info['ssh']['host_key']}"
    known = keydir / "known_hosts"
    known.write_text(info["ssh"]["known_hosts_line"] + "\n")
    info["ssh"]["known_hosts_file"] = str(known)
    two_factor_port = int(container.get_exposed_port(2223))
    known_2fa = keydir / "known_hosts_2fa"
    known_2fa.write_text(f"[{host}]:{two_factor_port} {info['ssh']['host_key']}\n")
    info["ssh"]["two_factor"].update(port=two_factor_port, known_hosts_file=str(known_2fa))
    info["container"] = {"id": wrapped.id, "image": str(image)}
    return info


def cluster_info(refresh: bool = False, timeout: float = 900) -> dict[str, Any]:
    """Bring the cluster up (idempotent) and return ``up``'s JSON, cached per process."""
    if "info" not in _state or refresh:
        mode = os.environ.get("REMOTEJOBS_TEST_CLUSTER", "native").strip().lower() or "native"
        if mode == "native":
            _state["info"] = _native(timeout)
        elif mode == "container":
            _state["info"] = _container_mode(timeout)
        else:
            raise RuntimeError(f"REMOTEJOBS_TEST_CLUSTER must be 'native' or 'container', not {mode!r}")
    info: dict[str, Any] = _state["info"]
    return info
