"""Every example in the pages on job types, datasets, the agent and the CLI runs.

In each page, in order: a fenced block with ``file=PATH`` is written to PATH in a
scratch directory (also ``$HOME``); a ``python`` block is executed there; a ``console``
block's ``$ `` lines run in ``sh`` with the real ``remotejobs`` first on ``PATH``, and
the lines below each must appear in its output, in order, where ``...`` matches anything
(a trailing ``# exit N`` sets the expected exit status, else 0).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["docs/job-types.md", "docs/datasets.md", "docs/agent.md", "docs/cli.md"]
_FENCE = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```\s*$", re.S | re.M)
_EXIT = re.compile(r"\s+#\s*exit (\d+)\s*$")


def _blocks(page: str) -> list[tuple[str, str, str]]:
    return [(m.group(1), m.group(2).strip(), m.group(3)) for m in _FENCE.finditer((ROOT / page).read_text())]


def _line_pattern(expected: str) -> re.Pattern[str]:
    """Words in order, any run of blanks matching any run of blanks, ``...`` anything."""
    parts = [r"\s+".join(re.escape(w) for w in chunk.split()) for chunk in expected.strip().split("...")]
    return re.compile(r"\s*" + r".*".join(parts) + r"\s*$")


def _console(block: str, env: dict[str, str], cwd: Path) -> None:
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif line.strip():
            steps[-1][1].append(line)
    for line, expected in steps:
        match = _EXIT.search(line)
        status = int(match.group(1)) if match else 0
        command = _EXIT.sub("", line)
        done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, env=env, cwd=cwd,
                              timeout=300, check=False)
        output = (done.stdout + done.stderr).splitlines()
        assert done.returncode == status, f"$ {command}\nexit {done.returncode}\n{done.stdout}{done.stderr}"
        at = 0
        for want in expected:
            pattern = _line_pattern(want)
            while at < len(output) and not pattern.match(output[at]):
                at += 1
            assert at < len(output), f"$ {command}\nmissing line: {want!r}\nin:\n{done.stdout}{done.stderr}"
            at += 1


@pytest.mark.parametrize("page", PAGES)
def test_every_example_runs(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = os.path.dirname(sys.executable)
    env = {**os.environ, "HOME": str(tmp_path), "REMOTEJOBS_CONFIG": str(tmp_path / "config.toml"),
           "REMOTEJOBS_STATE_DIR": str(tmp_path / "state"), "REMOTEJOBS_AGENT_DIR": str(tmp_path / "agent"),
           "PATH": bindir + os.pathsep + os.environ.get("PATH", ""), "COLUMNS": "200"}
    env.pop("REMOTEJOBS_JOB_TYPES", None)
    env.pop("REMOTEJOBS_RESOURCE", None)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    ran = 0
    try:
        for lang, info, body in _blocks(page):
            target = re.search(r"file=(\S+)", info)
            if target:
                path = tmp_path / target.group(1)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(body)
            elif lang == "python":
                module = types.ModuleType("doc_example")
                sys.modules["doc_example"] = module
                exec(compile(body, f"{page} example", "exec"), module.__dict__)
            elif lang == "console":
                _console(body, env, tmp_path)
            else:
                continue
            ran += 1
    finally:
        sys.modules.pop("doc_example", None)
        subprocess.run(["remotejobs", "agent", "stop"], env=env, capture_output=True, check=False, timeout=60)
    assert ran >= 2
