"""Batch schedulers: pure dialects plus the resource that composes them with a transport."""

from remotejobs.scheduler.batch import BatchResource, BatchSettings
from remotejobs.scheduler.dialect import Command, SchedulerDialect, ScriptContext
from remotejobs.scheduler.probes import ProbeMemory, StatusProbe

__all__ = [
    "BatchResource", "BatchSettings", "Command", "ProbeMemory", "SchedulerDialect", "ScriptContext",
    "StatusProbe",
]
