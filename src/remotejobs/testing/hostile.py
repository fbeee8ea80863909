"""Hostile input, property-based, over a live backend (issue 10, "The suite that finds the next ones").

Hypothesis draws :class:`HostileCase` values (derandomized, few examples: each one costs a
job on a real cluster): job names, arguments, environment names and values, upload file
names and target directories, download names and job ids, built from the characters that
broke shells, option parsers, paths and URLs before (quotes, ``$()``, backticks, ``;``,
``|``, newlines, NUL, leading dashes, ``..``, ``/``, ``%2F``) plus arbitrary and very long
non-ASCII text. For each example :func:`check_hostile_inputs`:

- builds the :class:`~remotejobs.models.JobSpec`; a value it refuses (NUL, a bad
  environment name, a name over 200 characters) must be refused with a
  :class:`~remotejobs.errors.JobSpecValidationError` naming the field, and the rest is
  submitted (a backend may refuse a whole spec with an ``InvalidJobSpecError``);
- submits a job that prints its argv and environment as JSON (checked after the run: every
  accepted value arrives verbatim; the name is reported verbatim where the backend reports
  names);
- uploads a file under a hostile name into a hostile directory (it lands at exactly the
  path returned, checked on the local file system when the cluster is this machine, or is
  refused with a ``TransferError``), asks for a hostile download name (nothing written
  outside the target) and uses a hostile id for status, cancel and download (refused with
  ``JobNotFoundError``; every generated id holds a character no scheduler id has, so a
  cancel can never hit a real job);
- then checks the canaries: a file in the user's home and a running job of the same user
  must be untouched, and no file a ``$(touch ...)`` payload names may exist.

Counts go to :mod:`remotejobs.testing.scoreboard` (``hypothesis examples``, ``attacks:
hostile ...``, ``jobs injected``/``jobs lost`` which must stay zero).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from remotejobs.errors import (
    InvalidJobSpecError,
    JobNotFoundError,
    JobSpecValidationError,
    TransferError,
)
from remotejobs.job import Job
from remotejobs.models import JobSpec, JobState
from remotejobs.resource import ComputeResource
from remotejobs.testing import scoreboard

__all__ = ["HostileCase", "check_hostile_inputs", "hostile_cases", "hostile_text"]

#: Pieces that broke shells, option parsers, paths or URLs; ``{pwn}`` is a file path that
#: must never be created.
ATOMS: tuple[str, ...] = (
    "'", '"', "$(touch {pwn})", "`touch {pwn}`", ";touch {pwn}", "|touch {pwn}", "&&touch {pwn}",
    "\n", "\r", "\t", "\0", "-", "--", "-rf", "--help", "..", "/", "../..", "%2F", "%00", "\\",
    "$HOME", "${IFS}", "*", "?", "~", ">", "<", "#", " ", "=", "é", "名前", "✓", "\u202e", "\U0001f600",
    "#SBATCH --wrap=touch {pwn}", "#BSUB -J x", "#PBS -N x", "#$ -N x",
)
#: A generated id always holds one of these: no scheduler's id grammar has them.
_NOT_IN_ANY_ID = ("'", '"', "$", "`", ";", "|", "\n", "\t", "\0", " ", "/", "%", "\\", "*", "?", "~", "<", ">")
_ENV_OK = "RJ_HOSTILE_"
_MARK = "RJ-HOSTILE:"
# The job: print argv[2:] and the environment variables named in argv[1] as one JSON line.
_PROGRAM = ("import json, os, sys; keys = [k for k in sys.argv[1].split(',') if k]; "
            f"print({_MARK!r} + json.dumps({{'argv': sys.argv[2:], "
            "'env': {k: os.environ.get(k) for k in keys}}, ensure_ascii=True))")


def hostile_text(pwn: str) -> st.SearchStrategy[str]:
    """Strings made of :data:`ATOMS` and arbitrary text (no surrogates), sometimes very long."""
    atoms = st.sampled_from([a.replace("{pwn}", pwn) for a in ATOMS])
    anything = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=4)
    short = st.lists(atoms | anything, min_size=1, max_size=5).map("".join)
    long = st.tuples(st.sampled_from(["x", "é", "名", "$(id)", "-", "../"]), st.integers(150, 2500)).map(
        lambda pair: pair[0] * pair[1])
    return st.one_of(short, short, short, long)


@dataclass(frozen=True)
class HostileCase:
    """One example: every field hostile."""

    arguments: tuple[str, ...]
    environment: dict[str, str]
    name: str
    file_name: str
    target: str
    download_name: str
    job_id: str


def _id_from(text: str, unsafe: str) -> str:
    return text if any(c in text for c in _NOT_IN_ANY_ID) else text + unsafe


def hostile_cases(pwn: str) -> st.SearchStrategy[HostileCase]:
    """:class:`HostileCase` values; environment names are mostly valid (so values are
    tested), sometimes hostile."""
    text = hostile_text(pwn)
    env_name = st.one_of(st.integers(0, 99).map(lambda n: f"{_ENV_OK}{n}"), st.integers(0, 99).map(
        lambda n: f"{_ENV_OK}{n}"), text)
    return st.builds(
        HostileCase,
        arguments=st.lists(text, min_size=1, max_size=4).map(tuple),
        environment=st.dictionaries(env_name, text, min_size=1, max_size=3),
        name=text,
        file_name=text,
        target=text,
        download_name=text,
        job_id=st.tuples(text, st.sampled_from(_NOT_IN_ANY_ID)).map(lambda pair: _id_from(*pair)),
    )


@dataclass
class _Submitted:
    job: Job
    arguments: tuple[str, ...]
    environment: dict[str, str]
    name: str | None


@dataclass
class _Run:
    resource: ComputeResource
    local_home: Path | None
    tmp: Path
    pwn: Path
    canary_job: Job
    canary_file: str
    canary_digest: str
    submitted: list[_Submitted] = field(default_factory=list)
    planted_env: dict[str, str] = field(default_factory=dict)
    expected_name: Callable[[str], str] = str

    def spec(self, case: HostileCase) -> JobSpec | None:
        """The case's spec, after checking that what JobSpec refuses is refused field by field."""
        arguments = tuple(a for a in case.arguments if _accepted("arguments", arguments=(a,)))
        environment = {k: v for k, v in case.environment.items()
                       if _accepted("environment", environment={k: v})}
        name = case.name if _accepted("name", name=case.name) else None
        environment.update(self.planted_env)
        keys = ",".join(environment)
        return JobSpec(executable="/usr/bin/python3", arguments=("-c", _PROGRAM, keys, *arguments), name=name,
                       environment=environment)

    def submit(self, case: HostileCase) -> None:
        spec = self.spec(case)
        assert spec is not None
        for _ in range(3):  # a backend that cannot honour a field says which: submit without it
            try:
                job = self.resource.submit(spec)
                break
            except InvalidJobSpecError as exc:
                scoreboard.record("attacks: hostile values refused by a backend")
                spec = _without_refused(spec, str(exc))
        else:
            raise AssertionError(f"{spec!r} refused three times")
        self.submitted.append(_Submitted(job, spec.arguments[3:], dict(spec.environment), spec.name))
        scoreboard.record("attacks: hostile job specs submitted")

    def upload(self, case: HostileCase, index: int) -> None:
        local_name = _file_name(case.file_name, index)
        local = self.tmp / "up" / str(index) / local_name
        local.parent.mkdir(parents=True)
        payload = f"payload {index} {case.file_name!r}".encode()
        local.write_bytes(payload)
        target = posixpath.join("rj-hostile-inbox", case.target.replace("\0", "")[:80])
        try:
            remote = self.resource.upload(local, target)
        except TransferError as exc:
            scoreboard.record("attacks: hostile upload targets refused")
            assert str(exc), exc
            return
        scoreboard.record("attacks: hostile uploads landed verbatim")
        assert posixpath.basename(remote) == local_name, (remote, local_name)
        if self.local_home is not None:
            where = Path(posixpath.normpath(posixpath.join(str(self.local_home), target, local_name)))
            assert posixpath.normpath(posixpath.join(str(self.local_home), remote)) == str(where), (remote, where)
            assert where.read_bytes() == payload, where
            where.unlink()

    def hostile_names_and_ids(self, case: HostileCase) -> None:
        before = sorted(self.tmp.rglob("*"))
        victim = self.submitted[-1].job if self.submitted else self.canary_job
        try:
            got = self.resource.download(victim, self.tmp / "dl", name=case.download_name)
        except (TransferError, JobNotFoundError):
            got = []
        for path in got:  # a hostile name that is also a plain file of the job: only inside
            assert path.resolve().is_relative_to((self.tmp / "dl").resolve()), path
            path.unlink()
        assert sorted(p for p in self.tmp.rglob("*") if p.is_file()) == [p for p in before if p.is_file()]
        scoreboard.record("attacks: hostile download names")
        for call in (self.resource.status, self.resource.cancel,
                     lambda job_id: self.resource.download(job_id, self.tmp / "ids")):
            try:
                call(case.job_id)
            except JobNotFoundError:
                continue
            raise AssertionError(f"hostile id {case.job_id!r} was not refused by {call}")
        scoreboard.record("attacks: hostile job ids", 3)

    def check_canaries(self) -> None:
        assert not self.pwn.exists(), f"a hostile value was run by a shell: {self.pwn} exists"
        if self.local_home is not None:
            data = (self.local_home / self.canary_file).read_bytes()
            assert hashlib.sha256(data).hexdigest() == self.canary_digest, "the canary file was touched"
        state = self.resource.status(self.canary_job).state
        assert not state.is_final, f"the canary job {self.canary_job.id} was touched: {state}"

    def verify_jobs(self, timeout: float) -> None:
        """Every job completed with its values verbatim; no job was lost or injected."""
        ids = [s.job.id for s in self.submitted]
        deadline = time.monotonic() + timeout
        infos = self.resource.status_many(ids)
        while not all(i in infos and infos[i].state.is_final for i in ids) and time.monotonic() < deadline:
            time.sleep(1.0)
            infos = self.resource.status_many(ids)
        lost = [i for i in ids if i not in infos]
        scoreboard.record("jobs lost", len(lost))
        assert not lost, f"jobs lost: {lost}"
        for item in self.submitted:
            info = infos[item.job.id]
            assert info.state is JobState.COMPLETED, info
            out = self.tmp / "out" / item.job.id.replace("/", "_")
            texts = [p.read_text(encoding="utf-8") for p in self.resource.download(item.job, out)]
            lines = [ln for t in texts for ln in t.splitlines() if ln.startswith(_MARK)]
            assert len(lines) == 1, texts
            seen = json.loads(lines[0][len(_MARK):])
            assert tuple(seen["argv"]) == item.arguments, (seen["argv"], item.arguments)
            assert seen["env"] == item.environment, (seen["env"], item.environment)
            if item.name is not None and info.name is not None:  # names: the backend's documented mapping
                assert info.name == self.expected_name(item.name), (info.name, item.name, info)
        scoreboard.record("attacks: hostile values verified verbatim in jobs", len(self.submitted))
        injected = [i.id for i in self.resource.jobs() if i.name and self.pwn.name in i.name and i.id not in ids]
        scoreboard.record("jobs injected", len(injected))
        assert not injected, f"jobs injected by hostile values: {injected}"


def _without_refused(spec: JobSpec, said: str) -> JobSpec:
    """``spec`` without the fields an InvalidJobSpecError message names."""
    update: dict[str, object] = {f: None if f == "name" else {} for f in ("name", "environment") if f in said}
    arguments = spec.arguments
    if "argument" in said:
        bad = {int(n) for n in re.findall(r"argument (\d+)", said)}
        arguments = tuple(a for i, a in enumerate(arguments) if i not in bad)
    if "environment" in update:
        arguments = (*arguments[:2], "", *arguments[3:])  # no variables to print
    assert update or arguments != spec.arguments, said  # the message names the field
    return JobSpec(**{**spec.model_dump(), **update, "arguments": arguments})


def _accepted(field_name: str, **values: object) -> bool:
    try:
        JobSpec(executable="/bin/true", **values)
    except JobSpecValidationError as exc:
        assert field_name in str(exc), exc  # names the field
        scoreboard.record("attacks: hostile values refused by validation")
        return False
    return True


def _file_name(text: str, index: int) -> str:
    name = text.replace("/", "_").replace("\0", "_")
    name = name.encode("utf-8")[:120].decode("utf-8", "ignore")
    return f"f{index}-{name}" if name not in ("", ".", "..") else f"f{index}"


@contextmanager
def _canaries(resource: ComputeResource, local_home: Path | None, tmp: Path,
              canary: JobSpec) -> Iterator[_Run]:
    token = secrets.token_hex(4)
    pwn = Path(f"/tmp/rj-pwned-{token}")
    canary_name = f".rj-canary-{token}"
    local = tmp / canary_name
    local.write_bytes(f"canary {token}\n".encode())
    remote = resource.upload(local, ".")
    job = resource.submit(canary)
    run = _Run(resource, local_home, tmp, pwn, job, canary_name, hashlib.sha256(local.read_bytes()).hexdigest())
    if local_home is not None:
        assert posixpath.normpath(posixpath.join(str(local_home), remote)) == str(local_home / canary_name), remote
    try:
        yield run
    finally:
        resource.cancel(job)
        if local_home is not None:
            (local_home / canary_name).unlink(missing_ok=True)
        pwn.unlink(missing_ok=True)


def check_hostile_inputs(
    resource: ComputeResource,
    tmp_path: Path,
    *,
    local_home: Path | None,
    examples: int = 12,
    timeout: float = 120.0,
    planted_env: dict[str, str] | None = None,
    on_example: Callable[[], None] | None = None,
    expected_name: Callable[[str], str] = str,
) -> None:
    """Run ``examples`` hostile cases against a logged-in ``resource`` (see the module doc).

    ``local_home``: the user's remote home seen on this machine (the cluster is local), to
    check uploads and the canary file byte for byte; None checks what the API shows only.
    ``planted_env``: environment entries added to every job (planted secrets). ``on_example``
    runs after every example (e.g. another check of the caller's). ``expected_name`` maps a
    job name to the name the backend documents the scheduler gets (schedulers restrict
    names: Slurm's backend replaces control characters, PBS truncates ...); default: verbatim."""
    canary = JobSpec(executable="/bin/sleep", arguments=("600",), name="rj-canary-never-touch")
    with _canaries(resource, local_home, tmp_path, canary) as run:
        run.planted_env = dict(planted_env or {})
        run.expected_name = expected_name
        count = iter(range(10**6))

        @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck),
                  phases=(Phase.explicit, Phase.generate))  # no shrinking: each example is a job
        @given(hostile_cases(str(run.pwn)))
        def one(case: HostileCase) -> None:
            index = next(count)
            scoreboard.record("hypothesis examples")
            run.submit(case)
            run.upload(case, index)
            run.hostile_names_and_ids(case)
            run.check_canaries()
            if on_example is not None:
                on_example()

        one()
        run.verify_jobs(timeout)
        run.check_canaries()
