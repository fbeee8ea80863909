"""Batch schedulers: pure dialects plus the resource that composes them with a transport."""

from remotejobs.scheduler.batch import BatchResource, BatchSettings
from remotejobs.scheduler.dialect import Command, SchedulerDialect, ScriptContext
from remotejobs.scheduler.probes import ProbeAnswer, ProbeMemory, StatusProbe, format_probes

__all__ = [
    "BatchResource", "BatchSettings", "Command", "ProbeAnswer", "ProbeMemory", "SchedulerDialect", "ScriptContext",
    "StatusProbe", "format_probes",
]
