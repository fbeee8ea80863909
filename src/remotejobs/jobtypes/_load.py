"""Reading job types from a directory: TOML files, and the ICAT Job Portal's XML form."""

from __future__ import annotations

import os
import re
import shlex
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from remotejobs.config import config_path, load_config
from remotejobs.errors import ConfigurationError
from remotejobs.jobtypes._model import JobType

__all__ = ["JobTypeDefinitionError", "job_type_dirs", "job_types", "load_job_type"]


class JobTypeDefinitionError(ConfigurationError):
    """A job type file is unreadable or invalid; the message names the file and the key."""


def job_type_dirs(config: str | Path | None = None) -> list[Path]:
    """Where job types are read from, first wins for a name:

    1. ``$REMOTEJOBS_JOB_TYPES`` (directories separated by ``os.pathsep``), else
    2. ``dirs`` of the configuration's ``[job_types]`` table (relative to the file), else
    3. ``job-types/`` next to the configuration file.
    """
    env = os.environ.get("REMOTEJOBS_JOB_TYPES")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    cfg = load_config(config)
    base = Path(cfg.source).parent if cfg.source else config_path().parent
    dirs = cfg.job_types.get("dirs")
    if dirs is not None:
        if isinstance(dirs, str):
            dirs = [dirs]
        if not isinstance(dirs, list) or not all(isinstance(d, str) for d in dirs):
            raise JobTypeDefinitionError(f"{cfg.source}: [job_types] dirs must be a list of directory names")
        return [base / Path(d).expanduser() for d in dirs]
    unknown = set(cfg.job_types) - {"dirs"}
    if unknown:
        raise JobTypeDefinitionError(f"{cfg.source}: unknown key(s) in [job_types]: {', '.join(sorted(unknown))}; "
                                     "valid keys: dirs")
    return [base / "job-types"]


def job_types(dirs: list[str | Path] | None = None, *, config: str | Path | None = None) -> dict[str, JobType]:
    """Every job type in ``dirs`` (default :func:`job_type_dirs`), by name, sorted.

    :raises JobTypeDefinitionError: a file is invalid (names the file, the key and the
        rule), or two files in one directory define the same name.
    """
    found: dict[str, JobType] = {}
    for directory in [Path(d) for d in dirs] if dirs is not None else job_type_dirs(config):
        if not directory.is_dir():
            continue
        here: dict[str, Path] = {}
        for path in sorted(directory.iterdir()):
            if path.suffix not in (".toml", ".xml") or path.name.startswith("."):
                continue
            job_type = load_job_type(path)
            if job_type.name in here:
                raise JobTypeDefinitionError(f"Job type {job_type.name!r} is defined twice: in {here[job_type.name]} "
                                             f"and {path}", hint="Rename or remove one of them")
            here[job_type.name] = path
            found.setdefault(job_type.name, job_type)
    return dict(sorted(found.items()))


def load_job_type(path: str | Path) -> JobType:
    """One job type from a ``.toml`` file or an ICAT Job Portal ``.xml`` job description."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise JobTypeDefinitionError(f"Cannot read job type file {str(path)!r}: {exc}") from exc
    data = _from_xml(path, text) if path.suffix == ".xml" else _from_toml(path, text)
    try:
        return JobType.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        if where.startswith("options."):  # options.<i>.field -> options.<name>.field
            parts = where.split(".")
            index = int(parts[1]) if parts[1].isdigit() else None
            if index is not None and index < len(data.get("options", [])):
                parts[1] = str(data["options"][index].get("name", parts[1]))
                where = ".".join(parts)
        rule = "unknown key" if error["type"] == "extra_forbidden" else error["msg"].removeprefix("Value error, ")
        valid = ""
        if error["type"] == "extra_forbidden":
            valid = "; valid keys: " + ", ".join(sorted(set(JobType.model_fields) - {"source", "options"}
                                                        | {"options.<name>"}))
        key = f"key {where!r}: " if where else ""
        raise JobTypeDefinitionError(f"Invalid job type file {str(path)!r}: {key}{rule}{valid}") from exc


def _from_toml(path: Path, text: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise JobTypeDefinitionError(f"Job type file {str(path)!r} is not valid TOML: {exc}") from exc
    data.setdefault("name", path.stem)
    options = data.get("options", {})
    if not isinstance(options, dict):
        raise JobTypeDefinitionError(f"Invalid job type file {str(path)!r}: 'options' must be a table of "
                                     "[options.<name>] tables")
    listed = []
    for name, table in options.items():
        if not isinstance(table, dict):
            raise JobTypeDefinitionError(f"Invalid job type file {str(path)!r}: [options.{name}] must be a table")
        listed.append({"name": name, **table})
    data["options"] = listed
    return data


# The ICAT Job Portal's job description (icatproject/ijp.server,
# src/main/java/org/icatproject/ijp/shared/xmlmodel/JobType.java and JobOption.java;
# example src/main/config/ijp.example/job_types/date.xml): <jobType> with <name>,
# <executable>, <type> batch|interactive, <multiple forceSingleJob=".."> true|false,
# repeated <datasetTypes>, repeated <jobOptions> holding <name>, <type> (boolean,
# enumeration, string, integer, float), <programParameter>, repeated <values>,
# <defaultValue>, <minValue>, <maxValue>, <tip>. Not carried over: <condition>
# (expressions on ICAT dataset parameters), <groupName> radio groups (each boolean
# stays a separate flag), and the ICAT/IDS session arguments.
_XML_TYPES = {"boolean": "bool", "enumeration": "choice", "string": "string", "integer": "int", "float": "float"}
_NO_DATASET = "none (job only)"


def _text(element: ET.Element, tag: str) -> str | None:
    child = element.find(tag)
    return child.text.strip() if child is not None and child.text is not None else None


def _from_xml(path: Path, text: str) -> dict[str, Any]:
    try:
        root = ET.fromstring(text)  # noqa: S314 - the user's own configuration file
    except ET.ParseError as exc:
        raise JobTypeDefinitionError(f"Job type file {str(path)!r} is not valid XML: {exc}") from exc
    if root.tag != "jobType":
        raise JobTypeDefinitionError(f"Job type file {str(path)!r}: the root element must be <jobType>, "
                                     f"not <{root.tag}>")
    executable = _text(root, "executable")
    if not executable:
        raise JobTypeDefinitionError(f"Invalid job type file {str(path)!r}: <executable> is missing")
    types = [t.text.strip() for t in root.findall("datasetTypes") if t.text and t.text.strip() != _NO_DATASET]
    multiple = (_text(root, "multiple") or "false").lower() == "true"
    datasets = "none" if not types else ("many" if multiple else "one")
    options = []
    for element in root.findall("jobOptions"):
        raw_name = _text(element, "name") or ""
        kind = (_text(element, "type") or "string").lower()
        if kind not in _XML_TYPES:
            raise JobTypeDefinitionError(f"Invalid job type file {str(path)!r}: option {raw_name!r} has type "
                                         f"{kind!r}; valid types: {', '.join(_XML_TYPES)}")
        option: dict[str, Any] = {"name": re.sub(r"[^A-Za-z0-9_-]", "_", raw_name) or "option",
                                  "type": _XML_TYPES[kind], "help": _text(element, "tip") or raw_name,
                                  "flag": _text(element, "programParameter")}
        values = [v.text.strip() for v in element.findall("values") if v.text]
        if values:
            option["choices"] = values
        default = _text(element, "defaultValue")
        if default is not None:
            option["default"] = default
        for key, tag in (("min", "minValue"), ("max", "maxValue")):
            bound = _text(element, tag)
            if bound:
                option[key] = float(bound)
        options.append(option)
    placeholder = {"none": "", "one": " ${dataset}", "many": " ${datasets}"}[datasets]
    return {"name": _text(root, "name") or path.stem, "kind": (_text(root, "type") or "batch").lower(),
            "command": shlex.join([executable]) + " ${options}" + placeholder,
            "datasets": datasets, "dataset_types": types, "options": options,
            "description": f"From the ICAT Job Portal job description {path.name}"}
