"""Per-resource JobSpec defaults (``[resources.<name>.defaults]``): checked when the
configuration is loaded, applied at submission with the job's own values winning."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import remotejobs
from remotejobs import JobSpec, JobState
from remotejobs.config import apply_defaults, load_config
from remotejobs.errors import InvalidSettingsError, JobSpecValidationError, UnsupportedOperationError


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body)
    return path


def test_defaults_are_loaded_with_the_resource(tmp_path: Path) -> None:
    path = _config(tmp_path, f"""
[resources.hpc]
backend = "local"
state_dir = "{tmp_path / 'state'}"

[resources.hpc.defaults]
account = "imaging"
walltime = 600
environment = {{ SITE = "scarf" }}
""")
    entry = load_config(path).resource("hpc")
    assert entry.settings == {"state_dir": str(tmp_path / "state")}
    assert entry.defaults == {"account": "imaging", "walltime": 600, "environment": {"SITE": "scarf"}}
    resource = remotejobs.open_resource("hpc", config=path)
    assert resource.spec_defaults == entry.defaults


@pytest.mark.parametrize(("body", "key", "words"), [
    ('acount = "imaging"', "acount", "unknown JobSpec field"),
    ('executable = "/bin/true"', "executable", "unknown JobSpec field"),
    ('account = "two words"', "account", "invalid value"),
    ("nodes = 0", "nodes", "invalid value"),
])
def test_a_bad_default_is_refused_at_load_naming_resource_and_key(
    tmp_path: Path, body: str, key: str, words: str
) -> None:
    path = _config(tmp_path, f'[resources.hpc]\nbackend = "slurm"\n\n[resources.hpc.defaults]\n{body}\n')
    with pytest.raises(InvalidSettingsError) as err:
        load_config(path)
    message = str(err.value)
    assert "[resources.hpc.defaults]" in message and repr(key) in message and words in message
    assert err.value.resource == "hpc" and err.value.key == key and str(path) in message
    if words.startswith("unknown"):
        assert "account" in err.value.valid_keys and "executable" not in err.value.valid_keys
    else:  # the value itself (it could be a secret pasted by mistake) is not repeated
        assert "two words" not in message


def test_defaults_must_be_a_table(tmp_path: Path) -> None:
    path = _config(tmp_path, '[resources.hpc]\nbackend = "slurm"\ndefaults = "imaging"\n')
    with pytest.raises(InvalidSettingsError, match=r"\[resources.hpc.defaults\]: must be a table"):
        load_config(path)


def test_the_spec_wins_and_dictionaries_merge() -> None:
    defaults = {"account": "imaging", "qos": "short", "walltime": 600, "environment": {"SITE": "scarf", "A": "1"},
                "scheduler_options": {"slurm": ["--licenses=x:1"]}}
    spec = apply_defaults(JobSpec(executable="x", qos="long", queue=None, environment={"A": "2"}), defaults)
    assert (spec.account, spec.qos, spec.walltime) == ("imaging", "long", timedelta(seconds=600))
    assert spec.environment == {"SITE": "scarf", "A": "2"}
    assert spec.scheduler_options == {"slurm": ("--licenses=x:1",)}
    assert apply_defaults(spec, {}) is spec
    with pytest.raises(JobSpecValidationError, match="array_limit needs array"):
        apply_defaults(JobSpec(executable="x"), {"array_limit": 2})


def test_defaults_apply_at_submit_and_are_checked_like_the_spec(tmp_path: Path) -> None:
    local = remotejobs.open_resource("lab", backend="local", state_dir=str(tmp_path / "state"),
                                     defaults={"environment": {"SITE": "scarf"}})
    job = local.submit(JobSpec(executable="/bin/sh", arguments=("-c", 'echo "site=$SITE"')))
    assert job.wait(timeout=60).state is JobState.COMPLETED
    (out,) = job.download(tmp_path / "out", name="stdout")
    assert out.read_text() == "site=scarf\n"
    refusing = remotejobs.open_resource("lab", backend="local", state_dir=str(tmp_path / "state"),
                                        defaults={"account": "imaging"})
    with pytest.raises(UnsupportedOperationError, match="account") as err:
        refusing.submit(JobSpec(executable="/bin/true"))
    assert err.value.resource == "lab"
    with pytest.raises(InvalidSettingsError, match=r"\[resources.lab.defaults\] key 'quue'"):
        remotejobs.open_resource("lab", backend="local", defaults={"quue": "x"})
