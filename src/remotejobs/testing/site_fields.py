"""Conformance cases for the JobSpec site fields (account, qos, ..., scheduler_options).

:class:`SiteFieldsRefusalContract` (no job runs): every site field a backend does NOT
declare is refused with an UnsupportedOperationError naming the field and the backend.

:class:`SiteFieldsContract` adds live cases for the fields a backend DOES declare: one job
carrying every declared field the test cluster can honour (:attr:`~SiteFieldsContract.site_values`),
held back by ``begin`` so it never uses the cluster, whose scheduler record
(:meth:`~SiteFieldsContract.evidence`) must show each value (:attr:`~SiteFieldsContract.patterns`);
and ``stdin`` reaching the program. A declared field the test cluster cannot honour (no GPUs,
no reservation) is named in :attr:`~SiteFieldsContract.not_on_test_cluster` with the reason,
so every declared field is either checked live or knowingly left to the golden tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from remotejobs.errors import UnsupportedOperationError
from remotejobs.job import Job
from remotejobs.models import SITE_FIELDS, Capability, JobSpec, JobState
from remotejobs.resource import ComputeResource

__all__ = ["SiteFieldsContract", "SiteFieldsRefusalContract", "example_value"]

#: A value for each site field that differs from the default (for the refusal case).
_EXAMPLES: dict[str, Any] = {
    "account": "imaging", "qos": "short", "reservation": "17", "constraint": "fast", "exclusive": True,
    "cores_per_process": 2, "gpus_per_node": 1, "memory_mb_per_process": 100, "stdin": "in.txt", "nice": 5,
    "begin": datetime(2030, 1, 2, 3, 4, 5), "email": "rj@example.org",
}


def example_value(field: str, backend: str) -> dict[str, Any]:
    """JobSpec keyword arguments setting ``field`` (and what it needs) for ``backend``."""
    if field == "email_on":
        return {"email": "rj@example.org", "email_on": frozenset({"end"})}
    if field == "array_limit":
        return {"array": "1-2", "array_limit": 1}
    if field == "scheduler_options":
        return {"scheduler_options": {backend: ("-x",)}}
    return {field: _EXAMPLES[field]}


class SiteFieldsRefusalContract:
    """Undeclared site fields are refused by name. Provide ``site_session`` (logged in)."""

    @pytest.fixture
    def site_session(self) -> Iterator[ComputeResource]:
        raise NotImplementedError("override the site_session fixture")

    def test_undeclared_site_fields_are_refused_by_name(self, site_session: ComputeResource) -> None:
        backend = site_session.backend_name
        undeclared = [f for f in SITE_FIELDS if f not in site_session.spec_fields]
        for field in undeclared:
            spec = JobSpec(executable="/bin/true", **example_value(field, backend))
            with pytest.raises(UnsupportedOperationError) as err:
                site_session.submit(spec)
            # Without the arrays capability the array itself is refused first, by that name.
            named = "arrays" if field == "array_limit" and Capability.ARRAYS not in site_session.capabilities else field
            assert named in str(err.value) and repr(backend) in str(err.value), (field, str(err.value))
            assert err.value.resource == site_session.name
        # Options for another scheduler are not this backend's business: never refused.
        other = "slurm" if backend != "slurm" else "lsf"
        assert not _refuses(site_session, JobSpec(executable="/bin/true", scheduler_options={other: ("-x",)}))


def _refuses(session: ComputeResource, spec: JobSpec) -> bool:
    try:
        session._check_site_fields(spec)
    except UnsupportedOperationError:
        return True
    return False


class SiteFieldsContract(SiteFieldsRefusalContract):
    """Declared site fields reach the scheduler.

    :cvar site_values: JobSpec keyword arguments the test cluster honours, for declared
        fields (``begin`` is added: the job waits and is cancelled).
    :cvar patterns: field -> regular expression found in :meth:`evidence` for that field.
    :cvar not_on_test_cluster: declared fields not checked live, with the reason.
    :cvar stdin_dir: a remote directory (relative to the home directory) for the stdin case.
    """

    site_values: ClassVar[Mapping[str, Any]] = {}
    patterns: ClassVar[Mapping[str, str]] = {}
    not_on_test_cluster: ClassVar[Mapping[str, str]] = {}
    stdin_dir: ClassVar[str] = "site-fields-inbox"
    timeout: ClassVar[float] = 120.0

    def evidence(self, session: ComputeResource, job: Job) -> str:
        """What the scheduler's own tools say about ``job`` (raw text)."""
        raise NotImplementedError

    def test_every_declared_field_is_checked_or_explained(self, site_session: ComputeResource) -> None:
        declared = set(site_session.spec_fields) - {"stdin", "begin"}
        checked = set(self.patterns)
        assert declared <= checked | set(self.not_on_test_cluster), declared - checked - set(self.not_on_test_cluster)
        assert checked <= declared, checked - declared

    def test_declared_fields_reach_the_scheduler(self, site_session: ComputeResource) -> None:
        begin = (datetime.now() + timedelta(hours=3)).replace(microsecond=0)
        values = {"begin": begin, **self.site_values}
        job = site_session.submit(JobSpec(executable="/bin/true", name="rj-site", **values))
        try:
            text = self.evidence(site_session, job)
            missing = {f: p for f, p in self.patterns.items() if not re.search(p, text)}
            assert not missing, (missing, text)
            assert site_session.status(job).state in (JobState.QUEUED, JobState.HELD)
        finally:
            job.cancel()

    def test_stdin_reaches_the_program(self, site_session: ComputeResource, tmp_path: Path) -> None:
        data = tmp_path / "in.txt"
        data.write_text("line from stdin\n")
        site_session.upload(data, self.stdin_dir)
        job = site_session.submit(JobSpec(executable="/bin/cat", directory=self.stdin_dir, stdin="in.txt",
                                          name="rj-stdin"))
        assert job.wait(timeout=self.timeout).state is JobState.COMPLETED
        out = job.download(tmp_path / "out", name="stdout")
        # A scheduler may add to the output file (LSF appends its job report): the line is there, first.
        assert out[0].read_text().startswith("line from stdin\n"), out[0].read_text()[:500]
