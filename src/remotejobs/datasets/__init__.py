"""Datasets: named locations with a type and metadata, and the sources they come from.

    import remotejobs
    from remotejobs.datasets import Dataset, dataset_sources

    raw = dataset_sources()["raw"]               # a configured [datasets.raw] source
    with remotejobs.open_resource("hpc") as hpc:
        hpc.login()
        for dataset in raw.datasets(hpc):         # resource: where the source lists
            print(dataset.name, dataset.type, dataset.metadata)

A source kind is a plugin (hook ``remotejobs_register_dataset_sources``); the built-in
kind ``directory`` lists glob patterns (:mod:`remotejobs.datasets.directory`).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from remotejobs._plugins import get_registry
from remotejobs.config import load_config
from remotejobs.datasets._model import Dataset, DatasetNotFoundError, DatasetSource, DatasetSourceSettings
from remotejobs.errors import BackendLoadError, InvalidSettingsError

__all__ = ["Dataset", "DatasetNotFoundError", "DatasetSource", "DatasetSourceSettings", "dataset_sources",
           "open_source"]


def open_source(name: str, table: dict[str, Any], *, file: str | None = None) -> DatasetSource:
    """A source from one ``[datasets.<name>]`` table.

    :raises InvalidSettingsError: no or unknown ``source`` kind, or a bad setting (names
        the file, table, key and the valid keys).
    :raises BackendLoadError: the plugin class could not be imported.
    """
    settings = dict(table)
    kind = settings.pop("source", None)
    kinds = get_registry().dataset_sources
    if not isinstance(kind, str) or kind not in kinds:
        raise InvalidSettingsError(
            f"'source' must name a dataset source kind, not {kind!r}", file=file, table=f"datasets.{name}",
            key="source", valid_keys=sorted(kinds))
    target = kinds[kind]
    if isinstance(target, str):
        module_name, _, attr = target.partition(":")
        try:
            target = getattr(importlib.import_module(module_name), attr)
        except Exception as exc:
            raise BackendLoadError(f"Dataset source kind {kind!r} could not be imported from "
                                   f"{kinds[kind]!r}: {exc!r}") from exc
    if not (isinstance(target, type) and issubclass(target, DatasetSource)):
        raise BackendLoadError(f"Dataset source kind {kind!r} target {kinds[kind]!r} is not a DatasetSource")
    try:
        parsed = target.settings_model.model_validate(settings)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(p) for p in error["loc"]) or None
        rule = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        raise InvalidSettingsError(f"{rule} (dataset source kind {kind!r})", file=file, table=f"datasets.{name}",
                                   key=key, valid_keys=sorted(["source", *target.settings_model.model_fields])) from exc
    return target(parsed, name=name)


def dataset_sources(config: str | Path | None = None) -> dict[str, DatasetSource]:
    """The configured dataset sources by name (``[datasets.<name>]`` tables)."""
    cfg = load_config(config)
    return {name: open_source(name, table if isinstance(table, dict) else {}, file=cfg.source)
            for name, table in sorted(cfg.datasets.items())}
