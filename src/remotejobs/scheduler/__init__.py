"""Batch schedulers: pure dialects plus the resource that composes them with a transport."""

from remotejobs.scheduler.batch import BatchResource, BatchSettings
from remotejobs.scheduler.dialect import Command, SchedulerDialect, ScriptContext

__all__ = ["BatchResource", "BatchSettings", "Command", "SchedulerDialect", "ScriptContext"]
