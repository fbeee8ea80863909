"""The :class:`Dataset` value and the :class:`DatasetSource` extension point."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from remotejobs.errors import RemoteJobsError

__all__ = ["Dataset", "DatasetNotFoundError", "DatasetSource", "DatasetSourceSettings"]


class DatasetNotFoundError(RemoteJobsError):
    """No dataset of that name in the source(s) asked. :ivar name: the name asked for."""

    def __init__(self, name: str, message: str, **kwargs: Any) -> None:
        self.name = name
        super().__init__(message, **kwargs)


@dataclass(frozen=True)
class Dataset:
    """A named location with a type and metadata: ``Dataset(name, type, location, metadata)``.

    ``location`` is what a job's command receives as ``${dataset}`` (a path on the
    resource for the built-in directory source; a catalogue id or URL for others).
    ``source`` names the configured source it came from (None when made by hand).
    """

    name: str
    type: str
    location: str
    metadata: Mapping[str, Any] = field(default_factory=dict)
    source: str | None = None

    def __post_init__(self) -> None:
        for label, value in (("name", self.name), ("type", self.type), ("location", self.location)):
            if not isinstance(value, str) or not value or "\0" in value or "\n" in value:
                raise ValueError(f"Dataset {label} must be a non-empty string without NUL or newline, "
                                 f"not {value!r}")
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"name": self.name, "type": self.type, "location": self.location,
                "metadata": dict(self.metadata), "source": self.source}


class DatasetSourceSettings(BaseModel):
    """Base of every source's settings (one ``[datasets.<name>]`` table, minus ``source``):
    frozen, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class DatasetSource(ABC):
    """Where datasets come from: a directory tree, a catalogue such as ICAT, ...

    A plugin registers a subclass with ``registry.add_dataset_source(kind, "module:Class")``
    in its ``remotejobs_register_dataset_sources`` hook; configuration then names it::

        [datasets.raw]
        source = "directory"      # the kind
        pattern = "/data/raw/*"   # the source's own settings, checked by settings_model

    Sources are read-only and hold no session of their own: ``resource`` (when the
    source's settings name one) is an open, logged-in resource the caller manages.
    """

    settings_model: ClassVar[type[DatasetSourceSettings]] = DatasetSourceSettings

    def __init__(self, settings: DatasetSourceSettings, *, name: str) -> None:
        self.settings = settings
        self.name = name

    @property
    def resource_name(self) -> str | None:
        """The configured resource this source reads through, or None (local)."""
        return None

    @abstractmethod
    def datasets(self, resource: Any = None) -> list[Dataset]:
        """All datasets of this source, sorted by name. ``resource`` is a logged-in
        :class:`~remotejobs.ComputeResource` when :attr:`resource_name` is set."""

    def get(self, name: str, resource: Any = None) -> Dataset:
        """One dataset by name. :raises DatasetNotFoundError: no such name (lists some)."""
        found = self.datasets(resource)
        for dataset in found:
            if dataset.name == name:
                return dataset
        names = ", ".join(d.name for d in found[:20]) or "none"
        raise DatasetNotFoundError(name, f"No dataset {name!r} in source {self.name!r}; it has: {names}",
                                   hint="List them with: remotejobs datasets " + self.name)
