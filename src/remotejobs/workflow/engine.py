"""The workflow engine: steps submitted when their conditions hold, failures propagated,
finished work remembered across runs.

How a step runs (each time the engine advances, which needs no I/O but submissions):

1. Its condition is partially evaluated with what the engine knows. ``False``: the step
   can never run; it becomes CANCELLED with a reason naming the job whose failure caused
   it (and a submitted job waiting on a scheduler dependency is cancelled). ``True``: the
   step is submitted (a transfer runs).
2. Undecided, but the rest names only jobs already submitted on the step's own resource,
   in a form the scheduler can say (:func:`~remotejobs.workflow.conditions.native_dependency`):
   the job is submitted at once with the scheduler's own dependency and waits in the
   scheduler's queue. Otherwise the engine holds it until the condition is decided.

A poll cycle (:meth:`Workflow.poll`) asks each resource ONE ``status_many`` for all its
unfinished jobs, whatever their number, then advances.

Memoisation: every step has a key, the SHA-256 of its kind, label, resource name, spec (or
transfer source and target), the checksums of its ``inputs``, the versions of its
``packages`` and the keys of the steps its condition names. With a journal
(:mod:`remotejobs.workflow.journal`), a step whose key is recorded as COMPLETED is reused,
one recorded as submitted is re-attached to its job, and one recorded as failed or
cancelled runs again; ``force=True`` reruns a step and everything declared after it that
depends on it.

Crash safety: a token in the job name, recorded before submitting, finds a job whose
submission a killed process did not record (see :mod:`remotejobs.workflow.starting`).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from remotejobs.job import Job
from remotejobs.models import JobInfo, JobSpec, JobState, merge_info
from remotejobs.resource import ComputeResource
from remotejobs.workflow.conditions import ALWAYS, Atom, Condition, Value, atom_value, decided, dump, simplify
from remotejobs.workflow.conditions import native_dependency as translate
from remotejobs.workflow.context import workflow_scope
from remotejobs.workflow.journal import Journal
from remotejobs.workflow.progress import Progress
from remotejobs.workflow.racing import FirstOf, judge
from remotejobs.workflow.starting import StepStarts
from remotejobs.workflow.steps import FileRef, Step, WorkflowError, file_ref_of
from remotejobs.workflow.transfers import sha256_of

__all__ = ["FirstOf", "Workflow", "default_workflow", "info_started"]

log = logging.getLogger(__name__)


def info_started(info: JobInfo) -> bool:
    """True when ``info`` shows that the job ran (or runs)."""
    return info.start_time is not None or info.state in (JobState.RUNNING, JobState.SUSPENDED, JobState.COMPLETED)


def _closed(resource: ComputeResource) -> bool:
    """A session that was logged out: its jobs can no longer be followed through it."""
    return not resource.logged_in and resource.user is not None


_DEFAULT: list[Workflow] = []


def default_workflow() -> Workflow:
    """The workflow of conditional submissions made outside any ``with Workflow()``
    block (no journal: nothing is remembered across runs)."""
    if not _DEFAULT:
        _DEFAULT.append(Workflow(None))
    return _DEFAULT[0]


class Workflow(StepStarts):
    """A set of steps run together; with a ``name``, remembered in a journal.

    ``with Workflow("park") as wf:`` makes it current: ``resource.submit(spec)`` and
    ``remotejobs.submit(spec)`` then create steps of ``wf``. Not thread-safe: drive one
    workflow from one thread.

    :param name: journal name (None: no journal, nothing remembered).
    :param poll_interval: longest pause between poll cycles, in seconds.
    """

    def __init__(self, name: str | None = None, *, poll_interval: float = 2.0,
                 journal_dir: Path | None = None) -> None:
        self.name = name or "workflow"
        self.poll_interval = poll_interval
        self.steps: list[Step] = []
        self.journal = Journal(name, journal_dir) if name else None
        self.groups: list[FirstOf] = []
        self._external: dict[tuple[int, str], JobInfo] = {}
        self._external_jobs: dict[tuple[int, str], Job] = {}
        self._scope: Any = None

    # -- context ----------------------------------------------------------------------
    def __enter__(self) -> Workflow:
        self._scope = workflow_scope(self)
        self._scope.__enter__()
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self._scope.__exit__(et, e, tb)
        waiting = [s.label for s in self.steps if not s.state.is_final]
        if waiting and et is None:
            log.warning("workflow %s left with unfinished steps (call wait()): %s", self.name, ", ".join(waiting))

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()

    # -- declaring steps --------------------------------------------------------------
    def submit(self, resource: ComputeResource, spec: JobSpec, after: Condition | None = None, *,
               name: str | None = None, inputs: Iterable[str | Path] = (), packages: Iterable[str] = (),
               force: bool = False) -> Step:
        """A job step: ``spec`` on ``resource`` once ``after`` holds.

        :param inputs: local files whose content the step depends on (their checksums go
            into the memo key).
        :param packages: Python distributions whose installed versions go into the key.
        :param force: rerun even if the journal has this step completed.
        :raises RemoteJobsError: the step could not be declared or its submission (made at
            once when ``after`` already holds or the scheduler can say it) failed; in a
            workflow without a journal (the default one included) the step is then dropped,
            so no later cycle submits it.
        """
        if spec.depends_on is not None:
            raise WorkflowError("Give either spec.depends_on or after=, not both", resource=resource.name)
        text = spec.model_dump_json()
        cond = self._with_file_producers(ALWAYS if after is None else after, text)
        for ref in file_ref_of(text):  # the key must not depend on this process's placeholder numbers
            text = text.replace(ref.token, f"<rjfile:{self._key_of(ref.producer)}/{ref.name}>")
        facts = {"spec": json.loads(text),
                 "inputs": {str(p): sha256_of(Path(p)) for p in inputs},
                 "packages": {p: importlib.metadata.version(p) for p in packages}}
        label = self._label(name or spec.name or Path(spec.executable).name)
        return self.add("job", resource, label, cond, facts, spec=spec, force=force)

    def upload(self, local_path: str | Path, remote_dir: str, *, resource: ComputeResource | None = None,
               after: Condition | None = None, name: str | None = None, force: bool = False) -> Step:
        """A step uploading ``local_path`` into ``remote_dir`` (default resource if none).
        Its key holds the file's checksum: an unchanged file already uploaded is skipped."""
        from remotejobs.workflow.context import default_resource

        target = resource or default_resource()
        path = Path(local_path)
        facts = {"local": str(path.resolve()), "sha256": sha256_of(path), "remote_dir": remote_dir}
        label = self._label(name or f"upload-{path.name}")
        return self.add("upload", target, label, ALWAYS if after is None else after, facts, force=force)

    def copy(self, source: FileRef, remote_dir: str, *, to: ComputeResource | None = None,
             after: Condition | None = None, name: str | None = None, force: bool = False) -> Step:
        """A step copying ``source`` (``job.file(name)``) into ``remote_dir`` on ``to``
        (default resource if none), once its producer is done (and ``after`` holds)."""
        from remotejobs.workflow.context import default_resource

        target = to or default_resource()
        cond = source.producer.done if after is None else source.producer.done & after
        facts = {"source": source.name, "from": source.producer.resource.name, "remote_dir": remote_dir,
                 "producer": self._key_of(source.producer)}
        label = self._label(name or f"copy-{source.name}")
        step = self.add("copy", target, label, cond, facts, force=force)
        step.payload["source_ref"] = source
        self.advance()
        return step

    def first_of(self, steps: Sequence[Step], good_enough: Callable[[Step], bool]) -> FirstOf:
        """Race ``steps``: when one completes and ``good_enough(step)`` is true, the others
        are cancelled in the same poll cycle. ``good_enough`` may download the step's files."""
        group = FirstOf(steps, good_enough)
        self.groups.append(group)
        return group

    # -- running ----------------------------------------------------------------------
    def poll(self) -> None:
        """One cycle: one status call per resource for its unfinished jobs, then advance."""
        by_resource: dict[int, tuple[ComputeResource, list[str]]] = {}
        for step in self.steps:
            if step.kind == "job" and step.job_id is not None and not step.state.is_final:
                by_resource.setdefault(id(step.resource), (step.resource, []))[1].append(step.job_id)
        for key, job in self._external_jobs.items():
            info = self._external.get(key)
            if info is None or not info.state.is_final:
                by_resource.setdefault(id(job.resource), (job.resource, []))[1].append(job.id)
        for resource, ids in by_resource.values():
            if _closed(resource):
                continue
            infos = resource.poller.status(ids)  # shared with every waiter on the resource
            for step in self.steps:
                if step.resource is resource and step.job_id in infos and not step.state.is_final:
                    self._update(step, infos[step.job_id])
            for job_id, info in infos.items():
                where = (id(resource), job_id)
                if where in self._external_jobs:
                    self._external[where] = merge_info(self._external.get(where), info)
        judge(self.groups, self.cancel_step)
        self.advance()

    def run_until(self, done: Callable[[], bool], timeout: float | None = None,
                  poll_interval: float | None = None, progress: Progress | None = None) -> bool:
        """Poll until ``done()`` (True) or ``timeout`` seconds passed (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        limit = poll_interval or self.poll_interval
        pause = min(0.2, limit)
        if done():
            return True
        self.advance()
        while not done():
            if deadline is not None and time.monotonic() >= deadline:
                return False
            self.poll()
            if progress is not None:
                progress.update()
            if done():
                break
            time.sleep(pause if deadline is None else max(0.0, min(pause, deadline - time.monotonic())))
            pause = min(limit, pause * 1.5)
        return True

    def wait(self, timeout: float | None = None, *, progress: bool | None = None) -> dict[str, JobInfo]:
        """Run until every step is final (or ``timeout``); show progress (a bar on a
        terminal, log lines otherwise; ``progress=False``: neither). Returns each step's
        outcome by label."""
        with Progress(self, enabled=progress) as bar:
            self.run_until(lambda: all(s.state.is_final for s in self.steps), timeout=timeout, progress=bar)
            bar.update()
        return self.outcomes()

    def outcomes(self) -> dict[str, JobInfo]:
        """Each step's last known info, by label."""
        return {s.label: s.info for s in self.steps}

    def cancel(self, reason: str = "workflow cancelled") -> None:
        """Cancel every unfinished step."""
        for step in self.steps:
            if not step.state.is_final:
                self.cancel_step(step, reason)

    def cancel_step(self, step: Step, reason: str) -> None:
        """Cancel ``step`` (its job too, if submitted) and propagate."""
        if step.state.is_final:
            return
        if step.kind == "job" and step.job_id is not None:
            step.resource.cancel(step.job_id)
        self._finish(step, JobState.CANCELLED, reason)
        self.advance()

    def advance(self) -> None:
        """Submit what can be submitted, cancel what can no longer run (repeats until
        nothing changes; no status I/O)."""
        changed = True
        while changed:
            changed = False
            for step in self.steps:
                if step.state.is_final:
                    continue
                if step.held:
                    changed |= self._try_start(step)
                elif step.kind == "job" and not step.ever_started and step.condition.evaluate(self._value) is False:
                    self.cancel_step(step, self._why_not(step))
                    changed = True

    # -- internals --------------------------------------------------------------------
    def _label(self, wanted: str) -> str:
        taken = {s.label for s in self.steps}
        base = "".join(c if c.isalnum() or c in "_.-" else "_" for c in wanted)[:40] or "step"
        label, n = base, 2
        while label in taken:
            label, n = f"{base}-{n}", n + 1
        return label

    def _with_file_producers(self, cond: Condition, text: str) -> Condition:
        for ref in file_ref_of(text):
            cond = cond & ref.producer.done
        return cond

    def _key_of(self, job: Job) -> str:
        return job.key if isinstance(job, Step) else f"{job.resource.name}:{job.id}"

    def add(self, kind: str, resource: ComputeResource, label: str, cond: Condition, facts: dict[str, Any], *,
            spec: JobSpec | None = None, force: bool = False) -> Step:
        """Declare a step from its parts (what :meth:`submit`, :meth:`upload`,
        :meth:`copy` and :func:`~remotejobs.workflow.resume.resume` use): ``facts`` go
        into the memo key with ``kind``, the resource name and the condition."""
        fresh: dict[int, list[Job]] = {}
        for job in cond.jobs():
            if not isinstance(job, Step) and (id(job.resource), job.id) not in self._external_jobs:
                self._external_jobs[(id(job.resource), job.id)] = job
                fresh.setdefault(id(job.resource), []).append(job)
        for jobs in fresh.values():  # jobs from outside the workflow: one status call per resource
            infos = jobs[0].resource.status_many([j.id for j in jobs])
            for job_id, info in infos.items():
                self._external[(id(jobs[0].resource), job_id)] = info
        upstream = [j for j in cond.jobs() if isinstance(j, Step)]
        force = force or any(j.forced for j in upstream)
        document = {"kind": kind, "label": label, "resource": resource.name, "after": dump(cond, self._key_of),
                    **facts}
        key = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
        step = Step(self, kind=kind, resource=resource, label=label, key=key, condition=cond, spec=spec,
                    forced=force, payload={"facts": facts, "after": document["after"]})
        self.steps.append(step)
        self._attach(step)
        if kind != "copy":  # a copy advances once its source is attached (see copy())
            try:
                self.advance()
            except BaseException:
                # The caller gets the error, never the step: without a journal nothing could
                # follow it, and a later advance() (any conditional submission in this
                # process, for the default workflow) would submit it behind the caller's back.
                if self.journal is None and step.held and step.job_id is None:
                    self.steps.remove(step)
                raise
        return step

    def _value(self, atom: Atom) -> Value:
        job = atom.job
        if isinstance(job, Step):
            return atom_value(atom.kind, job.state, job.ever_started)
        info = self._external.get((id(job.resource), job.id))
        return None if info is None else atom_value(atom.kind, info.state, info_started(info))

    def _try_start(self, step: Step) -> bool:
        rest = simplify(step.condition, self._value)
        value = decided(rest)
        if value is False:
            self._finish(step, JobState.CANCELLED, self._why_not(step))
            return True
        if value is True:
            self._start(step, None)
            return True
        if step.kind == "job":
            dependency = translate(rest, step.resource)
            if dependency is not None:
                self._start(step, dependency)
                return True
        return False

    def _why_not(self, step: Step) -> str:
        """A reason naming the job whose failure made ``step``'s condition impossible."""
        atoms = list(step.condition.atoms())
        decided_atoms = [a for a in atoms if self._value(a) is False] + [a for a in atoms if self._value(a)]
        for atom in decided_atoms[:1]:
                job = atom.job
                root = job.cause or job if isinstance(job, Step) else job
                what = root.label if isinstance(root, Step) else f"job {root.id} on {root.resource.name}"
                state = root.state if isinstance(root, Step) else self._external[(id(root.resource), root.id)].state
                via = f" (via {job.label})" if isinstance(job, Step) and root is not job else ""
                object.__setattr__(step, "cause", root if isinstance(root, Step) else None)
                return f"Not run: {what} ended {state.value}{via}, so {step.condition} can no longer hold"
        return f"Not run: {step.condition} can no longer hold"

    def _update(self, step: Step, info: JobInfo) -> None:
        merged = merge_info(step.info, info)
        started = step.ever_started or info_started(merged)
        if merged == step.info and started == step.ever_started:
            return
        step._set(info=merged, ever_started=started)
        if self.journal is not None:
            self.journal.put(step.key, state=merged.state.value, reason=merged.reason)
        log.info("workflow %s: step %s %s", self.name, step.label, merged.state.value)

    def _finish(self, step: Step, state: JobState, reason: str | None) -> None:
        info = step.info.model_copy(update={"state": state, "reason": reason})
        step._set(info=info, held=False)
        if self.journal is not None:
            self.journal.put(step.key, state=state.value, reason=reason, result=step.result)
        log.info("workflow %s: step %s %s%s", self.name, step.label, state.value, f" ({reason})" if reason else "")
