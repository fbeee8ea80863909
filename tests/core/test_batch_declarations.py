"""docs/writing-a-backend.md says a batch backend is written as a SchedulerDialect only, its
resource class being a declaration. This holds for every installed batch plugin: their
resource classes define no method, so all behaviour comes from BatchResource and the
dialect (a plugin overriding the status path, as PbsResource once did, fails here)."""

from __future__ import annotations

import inspect

import remotejobs
from remotejobs.scheduler import BatchResource


def test_every_batch_backend_is_a_declaration() -> None:
    registry = remotejobs.get_registry()
    batch = {n: c for n in registry.names() if issubclass(c := registry.load(n), BatchResource)}
    assert {"slurm", "lsf", "torque", "pbs", "sge"} <= set(batch), sorted(batch)
    for name, cls in batch.items():
        methods = [k for k, v in vars(cls).items()
                   if inspect.isfunction(v) or isinstance(v, (classmethod, staticmethod, property))]
        assert methods == [], f"{name}: {cls.__qualname__} defines {methods}"
