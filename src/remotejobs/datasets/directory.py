"""The built-in ``directory`` dataset source: glob patterns on the local machine or on a
resource (over its SSH transport), metadata from a sidecar file next to each match.

Configuration::

    [datasets.raw]
    source = "directory"
    pattern = ["/data/raw/run*", "/data/extra/*.nxs"]   # globs; relative = home directory
    type = "raw"                  # dataset type (a sidecar's "type" key overrides it)
    resource = "hpc"              # list on this configured resource; omit for this machine
    metadata = "dataset.json"     # sidecar inside a directory dataset (JSON, or TOML if *.toml)
    metadata_suffix = ".json"     # sidecar of a file dataset: its path plus this suffix

A match's name is its base name; its location is its absolute path (relative patterns
start in the home directory), as jobs run elsewhere. All matches and their sidecars are
read with one command on the resource.
"""

from __future__ import annotations

import glob
import json
import os
import posixpath
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from remotejobs.datasets._model import Dataset, DatasetSource, DatasetSourceSettings
from remotejobs.errors import ConfigurationError, TransportError

__all__ = ["LIST_SCRIPT", "DirectorySource", "DirectorySourceSettings"]

#: ``sh -c LIST_SCRIPT sh PATTERN DIRMETA SUFFIX``: for every match of the glob PATTERN,
#: prints its absolute path NUL kind(d|f) NUL sidecar-content NUL. The pattern is expanded by an
#: unquoted parameter expansion, which performs pathname expansion only (no command
#: substitution, no further expansion; POSIX "Shell Command Language", 2.6), with IFS
#: set to newline so that spaces in the pattern do not split it.
LIST_SCRIPT = r"""IFS='
'
for p in $1; do
  [ -e "$p" ] || continue
  case $p in /*) ;; *) p="$PWD/$p";; esac
  if [ -d "$p" ]; then k=d; m="$p/$2"; else k=f; m="$p$3"; fi
  printf '%s\0%s\0' "$p" "$k"
  if [ -f "$m" ] && [ -r "$m" ]; then head -c 65536 -- "$m"; fi
  printf '\0'
done"""


class DirectorySourceSettings(DatasetSourceSettings):
    pattern: tuple[str, ...] = Field(min_length=1)
    type: str = Field(min_length=1)
    resource: str | None = None
    metadata: str = "dataset.json"
    metadata_suffix: str = ".json"

    @field_validator("pattern", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("pattern")
    @classmethod
    def _no_newline(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if not item or "\n" in item or "\0" in item:
                raise ValueError(f"pattern {item!r} must be non-empty, without newline or NUL")
        return value


class DirectorySource(DatasetSource):
    """Datasets are the files and directories that match glob patterns."""

    settings_model = DirectorySourceSettings
    settings: DirectorySourceSettings

    @property
    def resource_name(self) -> str | None:
        return self.settings.resource

    def datasets(self, resource: Any = None) -> list[Dataset]:
        found: dict[str, Dataset] = {}
        for pattern in self.settings.pattern:
            entries = self._remote(resource, pattern) if self.settings.resource else self._local(pattern)
            for path, kind, meta_text in entries:
                dataset = self._dataset(path, kind, meta_text)
                found.setdefault(dataset.name, dataset)
        return sorted(found.values(), key=lambda d: d.name)

    def _local(self, pattern: str) -> list[tuple[str, str, str]]:
        expanded = os.path.expanduser(pattern)
        if not os.path.isabs(expanded):
            expanded = os.path.join(Path.home(), expanded)
        rows = []
        for path in sorted(glob.glob(expanded)):
            is_dir = os.path.isdir(path)
            meta = Path(path, self.settings.metadata) if is_dir else Path(path + self.settings.metadata_suffix)
            text = meta.read_text(encoding="utf-8", errors="replace")[:65536] if meta.is_file() else ""
            rows.append((path, "d" if is_dir else "f", text))
        return rows

    def _remote(self, resource: Any, pattern: str) -> list[tuple[str, str, str]]:
        transport = getattr(resource, "transport", None)
        if transport is None:
            raise ConfigurationError(
                f"Dataset source {self.name!r} lists on resource {self.settings.resource!r}, whose "
                "backend runs no commands", hint="Remove 'resource' to list on this machine")
        result = transport.run(["sh", "-c", LIST_SCRIPT, "sh", pattern, self.settings.metadata,
                                self.settings.metadata_suffix])
        if result.exit_status != 0:
            raise TransportError(f"Listing datasets of source {self.name!r} failed: {result.output}",
                                 transient=False)
        fields = result.stdout.split("\0")
        return [(fields[i], fields[i + 1], fields[i + 2]) for i in range(0, len(fields) - 2, 3)]

    def _dataset(self, path: str, kind: str, meta_text: str) -> Dataset:
        metadata = self._parse_metadata(path, kind, meta_text) if meta_text.strip() else {}
        dtype = metadata.get("type") if isinstance(metadata.get("type"), str) else self.settings.type
        name = posixpath.basename(path.rstrip("/")) or path
        return Dataset(name, str(dtype), path, metadata, source=self.name)

    def _parse_metadata(self, path: str, kind: str, text: str) -> dict[str, Any]:
        toml = (self.settings.metadata if kind == "d" else self.settings.metadata_suffix).endswith(".toml")
        try:
            data = tomllib.loads(text) if toml else json.loads(text)
        except ValueError as exc:
            raise ConfigurationError(
                f"The metadata sidecar of dataset {path!r} (source {self.name!r}) is not valid "
                f"{'TOML' if toml else 'JSON'}: {exc}", hint="Fix or remove the sidecar file") from exc
        if not isinstance(data, dict):
            raise ConfigurationError(f"The metadata sidecar of dataset {path!r} must hold an object")
        return data
