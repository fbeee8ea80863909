"""The Python examples of docs/getting-started.md run as shown: the first on ``local``, the
second on the live test cluster through a configuration made from the page's own TOML
block (with the test cluster's host, port, user and key put in)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "getting-started.md"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.S | re.M)


def _blocks(kind: str) -> list[str]:
    return [m.group(2) for m in _FENCE.finditer(PAGE.read_text()) if m.group(1) == kind]


def _run(code: str, tmp_path: Path, **env: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=600,
                          check=False, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                            "REMOTEJOBS_STATE_DIR": str(tmp_path / "state"), **env})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_first_job_on_local_prints_what_the_page_shows(tmp_path: Path) -> None:
    first = _blocks("python")[0]
    assert 'open_resource("local")' in first
    out = _run(first, tmp_path)
    assert "JobState.COMPLETED 0" in out  # the comment on the page
    assert "hello" in out


@pytest.mark.cluster
def test_first_job_over_ssh_with_the_pages_configuration(
    tmp_path: Path, cluster: dict[str, Any], cluster_users: list[dict[str, Any]]
) -> None:
    imports, over_ssh = _blocks("python")[0].split("\n\n")[0], _blocks("python")[1]
    table = tomllib.loads(_blocks("toml")[0])["resources"]["hpc"]
    user = cluster_users[0]
    table.update(host=cluster["ssh"]["host"], port=cluster["ssh"]["port"], username=user["name"],
                 key_file=user["key_file"], known_hosts=cluster["ssh"]["known_hosts_file"], use_agent=False)
    lines = ["[resources.hpc]"] + [f"{k} = {v!r}".replace("'", '"').replace("False", "false") for k, v in table.items()]
    config = tmp_path / "config.toml"
    config.write_text("\n".join(lines) + "\n")
    out = _run(f"{imports}\n{over_ssh}", tmp_path, REMOTEJOBS_CONFIG=str(config))
    assert out.strip().splitlines()[-1] == "JobState.COMPLETED"
