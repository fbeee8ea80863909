"""Configuration: named resources, precedence and the errors bad input gets."""

from __future__ import annotations

from pathlib import Path

import pytest

import remotejobs
from remotejobs.errors import (
    BackendNotFoundError,
    ConfigurationError,
    InvalidSettingsError,
    UnknownResourceError,
)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("REMOTEJOBS_CONFIG", str(path))
    return path


def test_configured_name_opens_its_backend(config: Path, tmp_path: Path) -> None:
    config.write_text(f'[resources.mine]\nbackend = "local"\nstate_dir = "{tmp_path / "s"}"\n')
    resource = remotejobs.open_resource("mine")
    assert resource.name == "mine" and resource.backend_name == "local"


def test_local_needs_no_configuration(config: Path) -> None:
    config.write_text("")
    assert remotejobs.open_resource("local").ping()
    assert remotejobs.open_resource().name == "local"


def test_unknown_resource_lists_configured_names(config: Path) -> None:
    config.write_text('[resources.scarf]\nbackend = "local"\n[resources.isis]\nbackend = "local"\n')
    with pytest.raises(UnknownResourceError) as err:
        remotejobs.open_resource("scraf")
    assert err.value.known == ["isis", "local", "scarf"]
    assert "isis, local, scarf" in str(err.value) and str(config) in str(err.value)


def test_bad_key_names_file_table_key_and_valid_keys(config: Path) -> None:
    config.write_text('[resources.mine]\nbackend = "local"\nstate_dri = "/tmp/x"\n')
    with pytest.raises(InvalidSettingsError) as err:
        remotejobs.open_resource("mine")
    e = err.value
    assert (e.file, e.table, e.key) == (str(config), "resources.mine", "state_dri")
    assert e.valid_keys == ["state_dir"]
    assert "state_dri" in str(e) and "[resources.mine]" in str(e) and "valid keys: state_dir" in str(e)
    assert isinstance(e.__cause__, Exception)


def test_bad_value_type_is_reported(config: Path) -> None:
    config.write_text('[resources.mine]\nbackend = "local"\nstate_dir = 5\n')
    with pytest.raises(InvalidSettingsError, match="state_dir"):
        remotejobs.open_resource("mine")


def test_missing_backend_key(config: Path) -> None:
    config.write_text('[resources.mine]\nhost = "x"\n')
    with pytest.raises(InvalidSettingsError) as err:
        remotejobs.open_resource("mine")
    assert err.value.key == "backend"


def test_unknown_backend_lists_installed(config: Path) -> None:
    config.write_text('[resources.mine]\nbackend = "pbspro"\n')
    with pytest.raises(BackendNotFoundError) as err:
        remotejobs.open_resource("mine")
    assert "local" in err.value.available and "pip install remotejobs-pbspro" in str(err.value)


def test_invalid_toml_names_file_and_line(config: Path) -> None:
    config.write_text('[resources.mine\nbackend = "local"\n')
    with pytest.raises(ConfigurationError, match=r"not valid TOML.*line 1"):
        remotejobs.open_resource("mine")


def test_missing_explicit_config_file(config: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        remotejobs.open_resource("mine")


def test_inline_settings_are_validated(tmp_path: Path) -> None:
    with pytest.raises(InvalidSettingsError) as err:
        remotejobs.open_resource(backend="local", nonsense=1)
    assert err.value.file is None and err.value.key == "nonsense"
