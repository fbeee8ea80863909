"""Bad settings are InvalidSettingsError naming the key, never a raw ValueError/OSError
later on (issue 10, hole 6): out-of-range ports, negative or NaN timeouts, a missing CA file."""

from __future__ import annotations

from pathlib import Path

import pytest

import remotejobs
from remotejobs.errors import InvalidSettingsError


@pytest.mark.parametrize("backend", ["slurm", "torque", "lsf"])
@pytest.mark.parametrize(
    ("key", "value"),
    [("port", 99999), ("port", 0), ("port", -22), ("command_timeout", -1), ("command_timeout", 0),
     ("connect_timeout", float("nan")), ("connect_timeout", float("inf")), ("command_timeout", float("nan"))],
)
def test_ssh_backend_settings_out_of_bounds(backend: str, key: str, value: object) -> None:
    with pytest.raises(InvalidSettingsError) as err:
        remotejobs.open_resource(backend=backend, host="login.example.org", **{key: value})  # type: ignore[arg-type]
    assert err.value.key == key and key in str(err.value)


@pytest.mark.parametrize(("key", "value"), [("connect_timeout", float("nan")), ("read_timeout", -1.0),
                                            ("read_timeout", float("inf"))])
def test_web_service_timeouts_out_of_bounds(key: str, value: float) -> None:
    with pytest.raises(InvalidSettingsError) as err:
        remotejobs.open_resource(backend="lsf-web", base_url="https://pac.example.org/", **{key: value})  # type: ignore[arg-type]
    assert err.value.key == key


def test_missing_ca_bundle_is_a_settings_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-ca.pem"
    with pytest.raises(InvalidSettingsError) as err:
        remotejobs.open_resource(backend="lsf-web", base_url="https://pac.example.org/", ca_bundle=str(missing))
    assert err.value.key == "ca_bundle" and "does not exist" in str(err.value)
