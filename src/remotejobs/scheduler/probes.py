"""Status probes: how a batch resource asks a scheduler about jobs, declared by the dialect.

A dialect declares its probes in order (:meth:`SchedulerDialect.status_probes`); the
:class:`~remotejobs.scheduler.BatchResource` runs them and remembers, per resource, which
ones this cluster does not offer (:class:`ProbeMemory`). The dialect itself never changes.

Rules the resource applies (``stage``):

- ``live`` probes are alternatives for the scheduler's current view (``squeue``;
  ``qstat -f -x`` else ``qstat -f``): the first available one answers for all ids.
- ``history`` probes are asked, in order, only about the ids no earlier probe reported
  (``sacct``, ``qstat -x`` of finished jobs ...).
- A live probe with a ``bulk_command`` asks with the user's name once more than
  ``bulk_above`` ids are asked: the scheduler then selects the user's jobs itself
  (``squeue -u alice`` answers faster than ``squeue -j <1000 ids>`` on a busy cluster),
  with the ids too or not, as the dialect decides; its ``parse`` keeps the asked ids, so
  its output must be in the same format as ``command``'s. Ids missing from the answer go
  to the history probes as usual.
- A probe may answer more than infos (:class:`ProbeAnswer`, through ``parse_answer``): the
  elements of an asked array, which the resource settles one by one with their own exit
  markers before aggregating them, and the ids its answer silently left out, which the
  next available live probe is asked about.
- A probe whose result fails with one of its ``unavailable`` texts (non-zero exit status
  and the text in its output) is skipped for good by this resource; the next probe, and in
  the end the jobs' exit markers, decide instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from remotejobs.models import JobInfo
from remotejobs.scheduler.command import Command
from remotejobs.transport.base import CommandResult

__all__ = ["ProbeAnswer", "ProbeMemory", "ProbeStage", "StatusProbe", "format_probes"]

ProbeStage = Literal["live", "history"]
#: ``(result, asked ids) -> infos keyed by asked id``, unknown ids left out.
Parse = Callable[[CommandResult, Sequence[str]], dict[str, JobInfo]]


@dataclass(frozen=True)
class ProbeAnswer:
    """What one probe's result tells, when that is more than infos by id.

    :ivar jobs: infos keyed by the asked ids (what ``parse`` returns).
    :ivar elements: for an asked array id, the infos of its elements under their own ids
        (as the running element sees its id, :attr:`SchedulerDialect.job_id_expr`). The
        resource drops other users' elements, settles each one the dialect cannot
        (:meth:`SchedulerDialect.needs_marker`) with its own exit marker, and reports the
        array as their aggregate (:func:`~remotejobs.scheduler.arrays.aggregate_array`).
    :ivar unanswered: asked ids the result neither reports nor names as unknown (an answer
        cut short); for a live probe, the next available live probe is asked about them.
    """

    jobs: Mapping[str, JobInfo]
    elements: Mapping[str, Sequence[JobInfo]] = field(default_factory=dict)
    unanswered: tuple[str, ...] = ()


@dataclass(frozen=True)
class StatusProbe:
    """One way to ask the scheduler about jobs.

    :ivar name: short and unique within the dialect (``squeue``, ``sacct``); it names the
        probe in :class:`ProbeMemory`.
    :ivar command: builds the one command for the given ids; None when this probe cannot
        ask about any of them (e.g. none has the probe's id form).
    :ivar parse: infos of the jobs the result reports; unknown ids are left out. Raises
        SchedulerError (with the raw output) when the output is not understood.
    :ivar unavailable: texts that, in the output of a failed command, mean "this probe does
        not exist on this cluster" (``accounting storage is disabled``).
    :ivar stage: ``live`` or ``history`` (see the module docstring).
    :ivar list_command: for a live probe, the command listing a user's jobs (None: the
        probe cannot list); ``parse_list`` parses its result.
    :ivar bulk_command: for a live probe, ``(user, ids) ->`` a command asking among that
        user's jobs, in the format ``parse`` reads (see the module docstring); None:
        always ask by ids only.
    :ivar bulk_above: the number of ids above which ``bulk_command`` is used.
    :ivar parse_answer: instead of ``parse`` for status (not for listings or their
        confirmation): a :class:`ProbeAnswer` with array elements to settle one by one, or
        ids the answer left out.
    :ivar confirm_list: the listing shows every user's jobs in a format another user's job
        name can forge records in (Slurm's qstat wrapper): the resource asks again, with
        ``command`` for the listed ids only, and keeps what that answer confirms.
    """

    name: str
    command: Callable[[Sequence[str]], Command | None]
    parse: Parse
    unavailable: tuple[str, ...] = ()
    stage: ProbeStage = "live"
    list_command: Callable[[str], Command] | None = None
    parse_list: Callable[[CommandResult, str], list[JobInfo]] | None = None
    confirm_list: bool = False
    bulk_command: Callable[[str, Sequence[str]], Command] | None = None
    bulk_above: int = 50

    def command_for(self, ids: Sequence[str], user: str | None) -> Command | None:
        """The command asking about ``ids``: :attr:`bulk_command` of ``user`` past
        :attr:`bulk_above` ids (a live probe with a known user), else :attr:`command`."""
        if self.bulk_command is not None and user and self.stage == "live" and len(ids) > self.bulk_above:
            return self.bulk_command(user, ids)
        return self.command(ids)

    parse_answer: Callable[[CommandResult, Sequence[str]], ProbeAnswer] | None = None

    def answer(self, result: CommandResult, ids: Sequence[str]) -> ProbeAnswer:
        """``parse_answer``'s answer, else ``parse``'s infos as one."""
        if self.parse_answer is not None:
            return self.parse_answer(result, ids)
        return ProbeAnswer(self.parse(result, ids))

    def is_unavailable(self, result: CommandResult) -> bool:
        """True when ``result`` says the probe does not exist here."""
        return result.exit_status != 0 and any(t in result.output for t in self.unavailable)


def format_probes(
    status_format: str,
    *,
    structured: tuple[str, str],
    text: str,
    command: Callable[[bool, Sequence[str]], Command],
    parse: Parse,
    parse_list: Callable[[CommandResult, str], list[JobInfo]],
    unavailable: tuple[str, ...],
    parse_answer: Callable[[CommandResult, Sequence[str]], ProbeAnswer] | None = None,
    confirm_text_list: bool = False,
    bulk_command: Callable[[str, Sequence[str]], Command] | None = None,
    bulk_above: int = 50,
) -> tuple[StatusProbe, ...]:
    """The live probes of a status command with a structured and a text form (Torque's
    ``qstat -f -x`` XML or ``-f -1`` text, PBS's ``qstat -f -F json`` or ``-f``), chosen
    by a ``status_format`` setting: ``"auto"`` both, structured first (a cluster whose
    command rejects the structured option with one of the ``unavailable`` texts is asked
    in text from then on); the structured form's value (``structured = (value, probe
    name)``) only the structured probe; ``"text"`` only the text probe named ``text``.

    ``command(structured, ids)`` builds either form; with no ids it lists every job.
    ``bulk_command``/``bulk_above`` apply to the structured probe only (see
    :class:`StatusProbe`).
    """
    def probe(name: str, is_structured: bool) -> StatusProbe:
        return StatusProbe(name, lambda ids: command(is_structured, ids), parse,
                           unavailable=unavailable if is_structured else (),
                           list_command=lambda _user: command(is_structured, ()), parse_list=parse_list,
                           confirm_list=confirm_text_list and not is_structured, parse_answer=parse_answer,
                           bulk_command=bulk_command if is_structured else None, bulk_above=bulk_above)

    value, name = structured
    rich, plain = probe(name, True), probe(text, False)
    return {"auto": (rich, plain), value: (rich,), "text": (plain,)}[status_format]


class ProbeMemory:
    """The probes one resource found unavailable (thread-safe; lives as long as the resource)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._unavailable: set[str] = set()

    def mark_unavailable(self, name: str) -> None:
        with self._lock:
            self._unavailable.add(name)

    def is_unavailable(self, name: str) -> bool:
        with self._lock:
            return name in self._unavailable

    @property
    def unavailable(self) -> frozenset[str]:
        """Names of the probes found unavailable so far."""
        with self._lock:
            return frozenset(self._unavailable)
