"""Job types: typed options, default resources and a command template."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from remotejobs._walltime import parse_walltime
from remotejobs.datasets import Dataset
from remotejobs.errors import InvalidJobSpecError
from remotejobs.models import JobSpec

__all__ = ["JobOption", "JobResources", "JobType", "OptionError", "render_argv"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_-]*)\}")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
#: Placeholders the job type fills in itself; options may not take these names.
RESERVED = frozenset({"dataset", "datasets", "dataset_name", "dataset_type", "options"})


class OptionError(InvalidJobSpecError):
    """An option value is missing, unknown or invalid. The message names the job type,
    the option and what is valid. :ivar option: the option's name (None for datasets)."""

    def __init__(self, job_type: str, option: str | None, problem: str) -> None:
        self.job_type, self.option = job_type, option
        what = f"option {option!r} of job type {job_type!r}" if option else f"job type {job_type!r}"
        super().__init__(f"Invalid {what}: {problem}",
                         hint=f"See: remotejobs jobtypes {job_type}")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class JobOption(_Frozen):
    """One typed option of a job type.

    ``type`` is ``string``, ``int``, ``float``, ``bool``, ``choice`` (one of ``choices``)
    or ``file`` (a path on the resource). ``dataset_types`` limits the option to jobs
    whose datasets are all of those types (empty: always). In the command template,
    ``${name}`` is replaced by the value; a token that is exactly ``${name}`` disappears
    when an optional option has no value, and for a ``bool`` with a ``flag`` it becomes
    the flag when true and disappears when false. Options not named in the template and
    having a ``flag`` are appended as ``flag value`` (or ``flag`` alone for a bool).
    """

    name: str
    type: Literal["string", "int", "float", "bool", "choice", "file"] = "string"
    default: str | int | float | bool | None = None
    required: bool = False
    help: str = ""
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    flag: str | None = None
    dataset_types: tuple[str, ...] = ()

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _NAME.match(value) or value in RESERVED:
            raise ValueError(f"option name {value!r} must match {_NAME.pattern} and not be one of "
                             f"{', '.join(sorted(RESERVED))}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> JobOption:
        if self.type == "choice" and not self.choices:
            raise ValueError(f"option {self.name!r} of type 'choice' needs 'choices'")
        if self.type != "choice" and self.choices:
            raise ValueError(f"option {self.name!r}: 'choices' needs type = 'choice'")
        if self.default is not None:
            try:
                self.coerce(self.default, "")
            except OptionError as exc:
                raise ValueError(f"default {self.default!r} is not {self.describe()}") from exc
        return self

    def describe(self) -> str:
        """What values are valid, for messages and help."""
        if self.type == "choice":
            return "one of " + ", ".join(self.choices)
        bounds = ""
        if self.min is not None or self.max is not None:
            low = "-inf" if self.min is None else f"{self.min:g}"
            bounds = f" from {low} to {'inf' if self.max is None else format(self.max, 'g')}"
        return {"int": "an integer", "float": "a number", "bool": "true or false",
                "file": "a path on the resource", "string": "text"}[self.type] + bounds

    def coerce(self, value: Any, job_type: str) -> str | int | float | bool:
        """``value`` (a string from the command line, or a Python value) as this option's
        type. :raises OptionError: naming the option and what is valid."""
        def bad(detail: str = "") -> OptionError:
            return OptionError(job_type, self.name, f"{value!r} is not {self.describe()}{detail}")

        result: str | int | float | bool
        if self.type == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text not in _TRUE | _FALSE:
                raise bad()
            return text in _TRUE
        if self.type in ("int", "float"):
            if isinstance(value, bool):
                raise bad()
            try:
                result = int(str(value).strip()) if self.type == "int" else float(value)
            except ValueError:
                raise bad() from None
            if (self.min is not None and result < self.min) or (self.max is not None and result > self.max):
                raise bad()
            return result
        text = str(value)
        if "\0" in text or "\n" in text:
            raise bad(" (no NUL or newline)")
        if self.type == "choice" and text not in self.choices:
            raise bad()
        if self.type == "file" and not text:
            raise bad()
        return text

    def applies_to(self, dataset_types: Sequence[str]) -> bool:
        """True when every dataset type given is one this option is for."""
        return not self.dataset_types or all(t in self.dataset_types for t in dataset_types)


class JobResources(_Frozen):
    """Default resources of a job type (a submission may override them)."""

    queue: str | None = None
    cores: int = Field(default=1, ge=1)
    nodes: int = Field(default=1, ge=1)
    walltime: timedelta | None = None
    memory_mb: int | None = Field(default=None, ge=1)

    @field_validator("walltime", mode="before")
    @classmethod
    def _walltime(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_walltime(value)
        if isinstance(value, int):
            return timedelta(minutes=value)
        return value


class JobType(_Frozen):
    """A kind of job users run by name: ``remotejobs.job_types()["reduce"]``.

    ``command`` is a template: split like a shell line into words (no shell runs it);
    ``${dataset}`` is the dataset's location (``${dataset_name}``, ``${dataset_type}``),
    ``${datasets}`` as a whole word expands to every dataset's location, ``${option}`` to
    an option's value, ``${options}`` to the options with a ``flag`` not named elsewhere
    (else they go at the end); ``$$`` is a literal ``$``. ``datasets`` says how many datasets one
    job accepts: ``none``, ``one`` or ``many``.
    """

    name: str
    description: str = ""
    kind: Literal["batch", "interactive"] = "batch"
    command: str = Field(min_length=1)
    datasets: Literal["none", "one", "many"] = "one"
    dataset_types: tuple[str, ...] = ()
    options: tuple[JobOption, ...] = ()
    resources: JobResources = JobResources()
    environment: dict[str, str] = Field(default_factory=dict)
    source: str | None = None

    @model_validator(mode="after")
    def _check_template(self) -> JobType:
        try:
            words = shlex.split(self.command)
        except ValueError as exc:
            raise ValueError(f"command is not a valid command line: {exc}") from exc
        if not words:
            raise ValueError("command is empty")
        known = {o.name for o in self.options} | RESERVED
        for word in words:
            for name in _PLACEHOLDER.findall(word):
                if name not in known:
                    raise ValueError(f"command uses ${{{name}}}, which is not an option; options: "
                                     f"{', '.join(sorted(o.name for o in self.options)) or 'none'}")
        names = [o.name for o in self.options]
        if len(names) != len(set(names)):
            raise ValueError("option names must be unique")
        return self

    def option(self, name: str) -> JobOption:
        """The option ``name``. :raises OptionError: unknown (lists the valid ones)."""
        for option in self.options:
            if option.name == name:
                return option
        raise OptionError(self.name, name, "no such option; options: "
                          + (", ".join(o.name for o in self.options) or "none"))

    def options_for(self, datasets: Sequence[Dataset]) -> list[JobOption]:
        """The options that apply to all of ``datasets`` (the portal's rule for several)."""
        types = sorted({d.type for d in datasets})
        return [o for o in self.options if o.applies_to(types)]

    def check_datasets(self, datasets: Sequence[Dataset]) -> None:
        """:raises OptionError: a dataset of a type this job type does not take, or
        datasets given to a type that takes none."""
        if self.datasets == "none" and datasets:
            raise OptionError(self.name, None, "it takes no datasets")
        if self.datasets != "none" and not datasets:
            raise OptionError(self.name, None, "it needs " + ("a dataset" if self.datasets == "one"
                                                             else "one or more datasets"))
        for dataset in datasets:
            if self.dataset_types and dataset.type not in self.dataset_types:
                raise OptionError(self.name, None, f"dataset {dataset.name!r} is of type {dataset.type!r}; "
                                  f"this job type takes {', '.join(self.dataset_types)}")

    def values(self, options: Mapping[str, Any], datasets: Sequence[Dataset] = ()) -> dict[str, Any]:
        """Checked, typed option values with defaults filled in (None: not given).

        :raises OptionError: an unknown option, one that does not apply to these
            datasets' types, a bad value, or a missing required one.
        """
        usable = {o.name: o for o in self.options_for(datasets)}
        for key in options:
            if key not in usable:
                self.option(key)  # unknown: raises with the list
                raise OptionError(self.name, key, "does not apply to datasets of type "
                                  + ", ".join(sorted({d.type for d in datasets}))
                                  + "; options that do: " + (", ".join(usable) or "none"))
        result: dict[str, Any] = {}
        for name, option in usable.items():
            raw = options.get(name, option.default)
            if raw is None:
                if option.required:
                    raise OptionError(self.name, name, f"is required ({option.describe()})")
                result[name] = None
            else:
                result[name] = option.coerce(raw, self.name)
        return result

    def argv(self, values: Mapping[str, Any], datasets: Sequence[Dataset]) -> list[str]:
        """The command line for one job over ``datasets`` (one, or all for a ``many`` type)."""
        return render_argv(self, values, datasets)

    def spec(self, options: Mapping[str, Any] | None = None, datasets: Sequence[Dataset] = (),
             **overrides: Any) -> JobSpec:
        """One :class:`JobSpec` for ``datasets``: a plain job for none or one dataset or for
        a ``many`` type, else one native array job with an element per dataset (``${dataset}``
        is the element's own). ``overrides`` are JobSpec fields (``name``, ``queue``,
        ``walltime``...). Use :func:`remotejobs.jobtypes.submit` to fall back to separate
        jobs on backends without arrays.

        :raises OptionError: bad options or datasets (names the option, says what is valid).
        """
        from remotejobs.jobtypes._plan import array_spec, single_spec

        datasets = list(datasets)
        self.check_datasets(datasets)
        values = self.values(options or {}, datasets)
        if len(datasets) > 1 and self.datasets == "one":
            return array_spec(self, values, datasets, overrides)
        return single_spec(self, values, datasets, overrides)

    def summary(self) -> dict[str, Any]:
        """JSON-ready description (for ``remotejobs jobtypes``)."""
        return self.model_dump(mode="json", exclude={"environment"})


def _substitute(word: str, mapping: Mapping[str, str | None]) -> str | None:
    """``word`` with placeholders replaced; None when a placeholder has no value."""
    missing = False

    def one(match: re.Match[str]) -> str:
        nonlocal missing
        value = mapping.get(match.group(1))
        if value is None:
            missing = True
            return ""
        return value

    parts = word.split("$$")
    replaced = [_PLACEHOLDER.sub(one, p) for p in parts]
    return None if missing else "$".join(replaced)


def render_argv(job_type: JobType, values: Mapping[str, Any], datasets: Sequence[Dataset]) -> list[str]:
    """Split the template into words and fill each in (no shell ever sees the values)."""
    options = {o.name: o for o in job_type.options}
    text: dict[str, str | None] = {}
    for name, value in values.items():
        if value is None:
            text[name] = None
        elif isinstance(value, bool):
            flag = options[name].flag
            text[name] = (flag if value else None) if flag else ("true" if value else "false")
        else:
            text[name] = str(value)
    first = datasets[0] if datasets else None
    text.update({"dataset": first.location if first else None, "dataset_name": first.name if first else None,
                 "dataset_type": first.type if first else None})
    words = shlex.split(job_type.command)
    used = {name for word in words for name in _PLACEHOLDER.findall(word)}
    flagged: list[str] = []
    for name, option in options.items():
        value = values.get(name)
        if name in used or option.flag is None or value is None:
            continue
        if isinstance(value, bool):
            flagged.extend([option.flag] if value else [])
        else:
            flagged.extend([option.flag, str(value)])
    argv: list[str] = []
    for word in words:
        if word == "${datasets}":
            argv.extend(d.location for d in datasets)
        elif word == "${options}":
            argv.extend(flagged)
        else:
            filled = _substitute(word, text)
            if filled is not None:
                argv.append(filled)
    if "options" not in used:
        argv.extend(flagged)
    return argv
