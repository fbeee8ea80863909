"""The shared poller of one resource: every waiter on it shares ONE status call per cycle.

``resource.wait(job)``, ``Job.wait()``, ``await job.wait_async()`` and the poll cycles of
workflows (:meth:`Poller.status`) register with the resource's :class:`Poller`. One
thread per resource, alive only while someone waits, runs the cycles: each asks
:meth:`ComputeResource.status_many` once for every id anyone waits on, and hands each
waiter its job's info when that is final (or the job is gone without evidence: UNKNOWN
with no native state), the error when the call failed, or JobNotFoundError.

The interval adapts (start-to-start):

- a new waiter on a job not seen yet is answered by a cycle at once; one on a job
  already known to be queued or running (just submitted) by a cycle after ``FAST``;
- each cycle in which no job changed state doubles the pause; a change halves it;
- it never exceeds the smallest cap of the waiters: their ``poll_interval`` (default
  :attr:`ComputeResource.poll_max`), and, for a waiter that gave ``latency``, that
  latency less the recent duration of a status call, so that completion is seen within
  ``latency`` seconds of the scheduler reporting it.

A job already known to be final is answered without any call.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from remotejobs.errors import JobNotFoundError
from remotejobs.models import JobInfo, JobState

if TYPE_CHECKING:
    from remotejobs.resource import ComputeResource

__all__ = ["FAST", "Poller"]

#: The first pause after a new waiter on a job known to be queued or running (seconds).
FAST = 0.1
#: The shortest pause ``latency`` can ask for (seconds).
_FLOOR = 0.05


def settled(info: JobInfo) -> bool:
    """True when waiting on the job is over: final, or gone with no evidence of its end."""
    return info.state.is_final or (info.state is JobState.UNKNOWN and info.native_state is None)


@dataclass(eq=False)
class _Waiter:
    job_id: str
    cap: float
    latency: float | None
    event: threading.Event = field(default_factory=threading.Event)
    future: tuple[asyncio.AbstractEventLoop, asyncio.Future[JobInfo]] | None = None
    result: JobInfo | None = None
    error: BaseException | None = None

    def deliver(self, info: JobInfo | None = None, error: BaseException | None = None) -> None:
        self.result, self.error = info, error
        self.event.set()
        if self.future is not None:
            loop, future = self.future
            loop.call_soon_threadsafe(_resolve, future, info, error)


def _resolve(future: asyncio.Future[JobInfo], info: JobInfo | None, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    elif info is not None:
        future.set_result(info)


@dataclass(eq=False)
class _Request:
    ids: list[str]
    event: threading.Event = field(default_factory=threading.Event)
    infos: dict[str, JobInfo] = field(default_factory=dict)
    error: BaseException | None = None


class Poller:
    """The poll cycles of one resource (see the module docstring). Thread-safe.

    :ivar cycles: status calls made so far (one per cycle).
    """

    def __init__(self, resource: ComputeResource[Any]) -> None:
        self._resource = resource
        self._cond = threading.Condition()
        self._waiters: list[_Waiter] = []
        self._requests: list[_Request] = []
        self._latest: dict[str, JobInfo] = {}
        self._thread: threading.Thread | None = None
        self._next = float("inf")  # when the next cycle is due (monotonic); inf: none is
        self._pause = FAST
        self._call_time = 0.0
        self.cycles = 0

    # -- callers ----------------------------------------------------------------------
    def wait(self, job_id: str, timeout: float | None, poll_interval: float | None,
             latency: float | None) -> JobInfo:
        """Block until the job is settled (see :meth:`ComputeResource.wait`)."""
        known = self._known(job_id)
        if known is not None:
            return known
        waiter = self._add(_Waiter(job_id, self._cap(poll_interval), latency))
        if waiter.event.wait(timeout):
            return self._outcome(waiter)
        self._drop(waiter)
        if waiter.event.is_set():  # delivered while timing out
            return self._outcome(waiter)
        return self._latest.get(job_id) or self._resource.status(job_id)

    async def wait_async(self, job_id: str, timeout: float | None, poll_interval: float | None,
                         latency: float | None) -> JobInfo:
        """As :meth:`wait`, without blocking the event loop (the same cycles serve both)."""
        known = self._known(job_id)
        if known is not None:
            return known
        loop = asyncio.get_running_loop()
        future: asyncio.Future[JobInfo] = loop.create_future()
        waiter = self._add(_Waiter(job_id, self._cap(poll_interval), latency, future=(loop, future)))
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            self._drop(waiter)
            if future.done():
                return future.result()
            latest = self._latest.get(job_id)
            return latest if latest is not None else await asyncio.to_thread(self._resource.status, job_id)
        finally:
            self._drop(waiter)

    def status(self, ids: Sequence[str]) -> dict[str, JobInfo]:
        """The infos of ``ids`` (as :meth:`ComputeResource.status_many`) from a cycle run
        now, shared with every waiter and with concurrent callers of this method."""
        request = _Request(list(ids))
        with self._cond:
            self._requests.append(request)
            self._next = 0.0
            self._start()
        request.event.wait()
        if request.error is not None:
            raise request.error
        return request.infos

    # -- internals --------------------------------------------------------------------
    def _cap(self, poll_interval: float | None) -> float:
        return poll_interval if poll_interval is not None else self._resource.poll_max

    def _known(self, job_id: str) -> JobInfo | None:
        info = self._resource._known.get(job_id)
        return info if info is not None and info.state.is_final else None

    @staticmethod
    def _outcome(waiter: _Waiter) -> JobInfo:
        if waiter.error is not None:
            raise waiter.error
        assert waiter.result is not None
        return waiter.result

    def _add(self, waiter: _Waiter) -> _Waiter:
        with self._cond:
            self._waiters.append(waiter)
            now = time.monotonic()
            seen = waiter.job_id in self._latest or waiter.job_id in self._resource._known
            self._next = min(self._next, now + FAST if seen else 0.0)
            self._pause = FAST
            self._start()
        return waiter

    def _drop(self, waiter: _Waiter) -> None:
        with self._cond:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"remotejobs-poller-{self._resource.name}",
                                            daemon=True)
            self._thread.start()
        self._cond.notify_all()

    def _limit(self, waiters: list[_Waiter]) -> float:
        caps = [w.cap for w in waiters]
        caps += [max(_FLOOR, w.latency - self._call_time) for w in waiters if w.latency is not None]
        return max(_FLOOR, min(caps, default=self._resource.poll_max))

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if not self._waiters and not self._requests:
                        self._thread = None
                        return
                    delay = self._next - time.monotonic()
                    if delay <= 0:
                        break
                    self._cond.wait(min(delay, 3600.0))
                self._next = float("inf")
                waiters, requests, self._requests = list(self._waiters), self._requests, []
            ids = list(dict.fromkeys([w.job_id for w in waiters] + [i for r in requests for i in r.ids]))
            start = time.monotonic()
            infos: dict[str, JobInfo] = {}
            error: BaseException | None = None
            try:
                infos = self._resource.status_many(ids) if ids else {}
            except Exception as exc:  # noqa: BLE001 - handed to every caller of this cycle, never lost
                error = exc
            self._finish(start, waiters, requests, infos, error)

    def _finish(self, start: float, waiters: list[_Waiter], requests: list[_Request],
                infos: dict[str, JobInfo], error: BaseException | None) -> None:
        took = time.monotonic() - start
        with self._cond:
            self.cycles += 1
            self._call_time = took if self.cycles == 1 else 0.7 * self._call_time + 0.3 * took
            changed = any(self._latest.get(i) is None or self._latest[i].state is not info.state
                          for i, info in infos.items())
            self._latest.update(infos)
            for request in requests:
                request.infos = {i: infos[i] for i in request.ids if i in infos}
                request.error = error
                request.event.set()
            for waiter in waiters:
                if waiter not in self._waiters:
                    continue
                info = infos.get(waiter.job_id)
                if error is None and info is not None and not settled(info):
                    continue
                self._waiters.remove(waiter)
                if error is None and info is None:
                    error_for = JobNotFoundError(waiter.job_id, resource=self._resource.name,
                                                 user=self._resource.user)
                    waiter.deliver(error=error_for)
                else:
                    waiter.deliver(info, error)
            self._pause = max(FAST, self._pause / 2) if changed else self._pause * 2
            self._pause = min(self._pause, self._limit(self._waiters))
            if self._waiters:
                self._next = min(self._next, start + self._pause)
