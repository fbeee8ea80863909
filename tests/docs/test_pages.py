"""Every example on the documentation pages runs and prints what the page shows.

The pages are those of the site's navigation (mkdocs.yml) except the generated or
measured ones; how a page's blocks run, and the comments that steer them, is in
below. A page that needs the live test cluster says so (``<!-- doctest:
cluster -->``) and is marked ``cluster`` here.


How a page runs. A page is read top to bottom (``<!-- include: PATH -->`` markers expanded, as the site
build does). Each fenced block, in order:

- ``LANG title="PATH"``: written to PATH in the page's scratch directory (the current
  directory of every example, and ``$HOME``; it holds links to the checkout's top-level
  files and directories, so commands run as in a checkout);
- ``python``: executed in one namespace shared by the page's python blocks; its output
  (stdout) must show the lines of a ``text title="Output"`` block that directly follows it;
- ``console``: each ``$ `` line runs in ``sh``; the lines below it must appear in its
  output (stdout and stderr), in order, where ``...`` matches anything and runs of blanks
  match runs of blanks; a trailing ``# exit N`` sets the expected exit status (else 0).
  Variables a command ``export``\\ s stay set for the page's later commands;
- ``sh``: each line that is not blank or a comment runs in ``sh`` and must exit 0;
- ``toml`` without a title: parsed, and every ``[resources.NAME]`` table in it must be
  valid settings of its backend, its ``defaults`` valid JobSpec fields (a snippet of a
  configuration file);
- anything else (``json``, ``text``, ``xml`` ...): shown output or formats, not run.

Comments steer the run (invisible on the site):

- ``<!-- doctest: skip REASON -->`` directly above a block: not run; the reason is
  required, and the test lists every skipped block;
- ``<!-- doctest: cluster bare -->``: the page needs the live test cluster, and sets up
  its configuration itself;
- ``<!-- doctest: cluster -->`` anywhere: the page runs against the live test cluster.
  ``$REMOTEJOBS_CONFIG`` then holds the resources ``tests/cluster/config`` writes (``hpc``
  for Slurm, ``lsf``, ``torque``, ``pbs``, ``sge``, and ``pac`` and ``scarf`` on a PAC
  emulator), also when the page writes its own ``config.toml`` (they are appended);
  ``$REMOTEJOBS_PASSWORD`` and the python name ``password`` hold the password of the
  first test user, ``password_of`` maps each test user to theirs;
- ``<!-- doctest: user alice=rjalice bob=rjbob -->``: in the page's examples, the user
  names a reader sees stand for the test cluster's users;
- a block inside ``<!-- doctest: setup ... -->`` runs like any other block but is not
  shown on the site (for example, defining what the shown code takes as given).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
_INCLUDE = re.compile(r"^<!-- include: (\S+) -->$", re.M)
_TOKEN = re.compile(
    r"^```(?P<lang>[\w-]*)(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$"
    r"|(?P<directive><!-- doctest: (?P<dname>\w+)(?P<darg>[^\n]*?)\s*(?P<dend>-->)?$)"
    r"|(?P<setup_end>^-->$)",
    re.S | re.M,
)
_EXIT = re.compile(r"\s+#\s*exit (\d+)\s*$")
_PAC = ROOT / "plugins" / "remotejobs-lsf-web" / "tests"


@dataclass
class Block:
    lang: str
    info: str
    body: str
    skip: str | None = None
    hidden: bool = False
    output: str | None = None  # a following ``title="Output"`` block


@dataclass
class Page:
    path: str
    blocks: list[Block] = field(default_factory=list)
    cluster: bool | str = False
    users: dict[str, str] = field(default_factory=dict)


def read_page(path: str) -> Page:
    text = (ROOT / path).read_text()
    text = _INCLUDE.sub(lambda m: (ROOT / m.group(1)).read_text(), text)
    page, skip, hidden = Page(path), None, False
    for m in _TOKEN.finditer(text):
        if m.group("directive"):
            name, arg = m.group("dname"), m.group("darg").strip()
            if name == "skip":
                assert arg, f"{path}: '<!-- doctest: skip -->' needs a reason"
                skip = arg
            elif name == "cluster":
                page.cluster = arg or True
            elif name == "user":
                page.users.update(pair.split("=", 1) for pair in arg.split())  # type: ignore[misc]
            elif name == "setup":
                hidden = m.group("dend") is None
            else:
                raise AssertionError(f"{path}: unknown doctest directive {name!r}")
        elif m.group("setup_end"):
            hidden = False
        else:
            block = Block(m.group("lang"), m.group("info").strip(), m.group("body"), skip, hidden)
            skip = None
            if block.info == 'title="Output"' and page.blocks:
                page.blocks[-1].output = block.body
                continue
            page.blocks.append(block)
    return page


def _line_pattern(expected: str) -> re.Pattern[str]:
    """Words in order, any run of blanks matching any run of blanks, ``...`` anything."""
    parts = [r"\s+".join(re.escape(w) for w in chunk.split()) for chunk in expected.strip().split("...")]
    return re.compile(r"\s*" + r".*".join(parts) + r"\s*$")


def expect_lines(expected: list[str], output: str, what: str) -> None:
    lines, at = output.splitlines(), 0
    for want in expected:
        pattern = _line_pattern(want)
        while at < len(lines) and not pattern.match(lines[at]):
            at += 1
        assert at < len(lines), f"{what}\nmissing line: {want!r}\nin:\n{output}"
        at += 1


class PageRun:
    """Runs one page's blocks in a scratch directory with its own environment."""

    def __init__(self, page: Page, workdir: Path, env: dict[str, str], cluster_config: str | None) -> None:
        self.page, self.workdir, self.env, self.cluster_config = page, workdir, env, cluster_config
        module = types.ModuleType("doc_example")
        sys.modules["doc_example"] = module  # classes defined by an example belong to a module
        self.namespace: dict[str, Any] = module.__dict__
        self.ran: list[str] = []
        self.skipped: list[str] = []

    def _users(self, text: str) -> str:
        for shown, real in self.page.users.items():
            text = re.sub(rf"\b{re.escape(shown)}\b", real, text)
        return text

    def _shell(self, command: str, status: int, expected: list[str]) -> None:
        envfile = self.workdir / ".doc-env"
        script = f". ./.doc-env\n{command}\n__doc_status=$?\nexport -p > ./.doc-env\nexit $__doc_status\n"
        if not envfile.exists():
            envfile.write_text("")
        done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=self.env,
                              cwd=self.workdir, timeout=300, check=False, stdin=subprocess.DEVNULL)
        output = done.stdout + done.stderr
        where = f"{self.page.path}: $ {command}"
        assert done.returncode == status, f"{where}\nexit {done.returncode}, expected {status}\n{output}"
        expect_lines(expected, output, where)

    def _console(self, body: str) -> None:
        steps: list[tuple[str, list[str]]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif line.strip():
                steps[-1][1].append(line)
        for line, expected in steps:
            match = _EXIT.search(line)
            self._shell(_EXIT.sub("", line), int(match.group(1)) if match else 0, expected)

    def _python(self, body: str, output: str | None) -> None:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(body, f"{self.page.path} example", "exec"), self.namespace)
        if output is not None:
            expect_lines([line for line in output.splitlines() if line.strip()], out.getvalue(),
                         f"{self.page.path}: python example")

    def _toml(self, body: str) -> None:
        from remotejobs._plugins import get_registry
        from remotejobs.config import check_defaults

        for name, table in tomllib.loads(body).get("resources", {}).items():
            settings = {k: v for k, v in table.items() if k not in ("backend", "defaults")}
            get_registry().load(table["backend"]).settings_model(**settings)
            check_defaults(table.get("defaults", {}), resource=name, file=None)
            self.ran.append(f"toml resources.{name}")

    def write(self, target: str, body: str) -> None:
        path = self.workdir / target
        path.parent.mkdir(parents=True, exist_ok=True)
        if target == "config.toml" and self.cluster_config is not None:
            body = body + "\n" + self.cluster_config
        path.write_text(body)

    def run(self) -> None:
        for block in self.page.blocks:
            label = f"{block.lang} {block.info} {block.body[:40]!r}"
            if block.skip is not None:
                self.skipped.append(f"{label}: {block.skip}")
                continue
            body = self._users(block.body)
            target = re.search(r'title="([^"]+)"', block.info)
            if target:
                self.write(target.group(1), body)
            elif block.lang == "python":
                self._python(body, None if block.output is None else self._users(block.output))
            elif block.lang == "console":
                self._console(body)
            elif block.lang == "sh":
                for line in body.splitlines():
                    if line.strip() and not line.lstrip().startswith("#"):
                        self._shell(line, 0, [])
            elif block.lang == "toml":
                self._toml(body)
                continue
            else:
                continue
            self.ran.append(label)


def _stop_pac_emulators(workdir: Path) -> None:
    """Stop every PAC emulator a page started (``python -m pac_emulator start ... DIR``)."""
    env = {**os.environ, "PYTHONPATH": str(_PAC)}
    for record in workdir.glob("*/pac.json"):
        subprocess.run([sys.executable, "-m", "pac_emulator", "stop", str(record.parent)], env=env, timeout=60,
                       check=False, capture_output=True)


@pytest.fixture(scope="session")
def cluster_config(cluster: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The configuration ``tests/cluster/config`` writes for the test cluster, with a PAC
    emulator (one for every page that needs it, stopped at the end)."""
    workdir = tmp_path_factory.mktemp("doc-cluster")
    (workdir / "cluster.json").write_text(json.dumps(cluster))
    env = {**os.environ, "PYTHONPATH": str(_PAC)}
    started = subprocess.run([sys.executable, "-m", "pac_emulator", "start", str(workdir / "cluster.json"),
                              str(workdir / "pac")], capture_output=True, text=True, env=env, timeout=120,
                             check=False)
    assert started.returncode == 0 and started.stdout.strip(), started.stderr
    try:
        made = subprocess.run([str(ROOT / "tests" / "cluster" / "config"), str(workdir / "cluster.json"),
                               str(workdir / "pac" / "pac.json")], capture_output=True, text=True, timeout=60,
                              check=True)
        yield made.stdout
    finally:
        _stop_pac_emulators(workdir)


@pytest.fixture
def run_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             request: pytest.FixtureRequest) -> Iterator[Callable[[str], PageRun]]:
    """``run_page(path)`` runs the page's examples (as the module docstring says) and returns the run."""
    cleanups: list[Callable[[], None]] = []
    envs: list[dict[str, str]] = []

    def run(path: str) -> PageRun:
        page = read_page(path)
        stamp = ROOT / ".venv" / ".installed"  # the Makefile's: pages run make through a link to .venv
        stale = [p.name for p in [ROOT / "pyproject.toml", *ROOT.glob("plugins/*/pyproject.toml")]
                 if not stamp.exists() or p.stat().st_mtime > stamp.stat().st_mtime]
        assert not stale, f"the .venv is older than {stale}: run 'make setup' first ('make test' does)"
        workdir = tmp_path / "page"
        workdir.mkdir()
        bindir = os.path.dirname(sys.executable)
        env = {**os.environ, "HOME": str(workdir), "REMOTEJOBS_CONFIG": str(workdir / "config.toml"),
               "REMOTEJOBS_STATE_DIR": str(workdir / ".state"), "REMOTEJOBS_AGENT_DIR": str(tmp_path / "agent"),
               "PATH": bindir + os.pathsep + os.environ.get("PATH", ""), "COLUMNS": "200"}
        for name in ("REMOTEJOBS_JOB_TYPES", "REMOTEJOBS_RESOURCE", "REMOTEJOBS_PASSWORD"):
            env.pop(name, None)
        for entry in ROOT.iterdir():  # the checkout, as a reader's current directory
            if entry.name == ".venv" or not entry.name.startswith("."):
                (workdir / entry.name).symlink_to(entry)
        config = None
        cleanups.append(lambda: _stop_pac_emulators(workdir))
        if page.cluster == "bare":
            request.getfixturevalue("cluster")
        elif page.cluster:
            users: list[dict[str, Any]] = request.getfixturevalue("cluster_users")
            config = request.getfixturevalue("cluster_config")
            env["REMOTEJOBS_PASSWORD"] = users[0]["password"]
        (workdir / "config.toml").write_text(config or "")
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        for key in set(os.environ) - set(env):
            monkeypatch.delenv(key)
        monkeypatch.chdir(workdir)
        envs.append(env)
        runner = PageRun(page, workdir, env, config)
        if page.cluster and page.cluster != "bare":
            runner.namespace["password"] = env["REMOTEJOBS_PASSWORD"]
            runner.namespace["password_of"] = {u["name"]: u["password"] for u in users}
        runner.run()
        return runner

    try:
        yield run
    finally:
        for env in envs:
            subprocess.run(["remotejobs", "agent", "stop"], env=env, capture_output=True, check=False, timeout=60)
        for stop in cleanups:
            stop()
        for name in [m for m in sys.modules if m == "doc_example"]:
            sys.modules.pop(name, None)
        shutil.rmtree(tmp_path / "page" / ".state", ignore_errors=True)



#: Pages whose examples another test runs, or that hold none (generated, measured, reference).
ELSEWHERE = {
    "writing-a-backend.md": "tests/tutorial/test_tutorial.py builds its backend from the page's blocks",
    "cli-reference.md": "generated from the command definitions",
    "api.md": "generated from the docstrings",
    "changelog.md": "CHANGELOG.md",
    "benchmarks.md": "written by make bench",
}


def _nav_pages() -> list[str]:
    nav = (ROOT / "mkdocs.yml").read_text().split("\nnav:", 1)[1]
    return [f"docs/{p}" for p in re.findall(r":\s*(\S+\.md)\s*$", nav, re.M) if p not in ELSEWHERE]


PAGES = _nav_pages()


@pytest.mark.parametrize("path", [pytest.param(p, marks=[pytest.mark.cluster] if read_page(p).cluster else [])
                                  for p in PAGES])
def test_every_example_on_the_page_runs(path: str, run_page: Callable[[str], PageRun]) -> None:
    page = read_page(path)
    run = run_page(path)
    runnable = [b for b in page.blocks if b.lang in ("python", "console", "sh", "toml") or "title=" in b.info]
    assert len(run.ran) + len(run.skipped) >= len(runnable)
    for reason in run.skipped:
        print("not run:", reason)


def test_the_getting_started_and_guide_pages_are_all_run() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    guides = re.search(r"- Guides:\n((?:\s{6}- .*\n)+)", nav)
    assert guides is not None
    for page in ["getting-started.md", *re.findall(r"(\S+\.md)", guides.group(1))]:
        assert f"docs/{page}" in PAGES or page == "cli-reference.md", page
