"""Key passphrases and two-factor logins against the real test sshds: an encrypted copy of a
test user's key, and the second sshd (``ssh.two_factor``: ``AuthenticationMethods
publickey,keyboard-interactive``, the password prompt of PAM as the second factor), through
the transport, a batch backend's settings, and the CLI."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

import remotejobs
from remotejobs.cli._common import Ctx
from remotejobs.cli.main import build
from remotejobs.errors import AuthenticationError
from remotejobs.scheduler import BatchResource
from remotejobs.testing.sentinel import Sentinel
from remotejobs.transport.ssh import SSHTransport

from .conftest import encrypt_key

MakeTransport = Callable[..., SSHTransport]
Prompts = list[tuple[str, bool]]

pytestmark = pytest.mark.cluster
PASSPHRASE = "correct horse battery staple ✓"


@pytest.fixture(autouse=True)
def _plant_passphrase(secret_sentinel: Sentinel) -> None:
    secret_sentinel.plant(PASSPHRASE, "key passphrase")


@pytest.fixture
def encrypted_key(cluster_users: list[dict[str, Any]], tmp_path: Path) -> Path:
    """rjalice's key, encrypted with PASSPHRASE (same public key: already authorized)."""
    key = tmp_path / "rjalice_encrypted"
    encrypt_key(cluster_users[0]["key_file"], key, PASSPHRASE)
    unlocked = subprocess.run(["ssh-keygen", "-y", "-P", "", "-f", str(key)], capture_output=True, check=False)
    assert unlocked.returncode != 0, "the copy must be encrypted"
    return key


def answering(password: str, seen: list[Prompts]) -> Callable[[str, str, Prompts], list[str]]:
    """An interactive handler that records its prompts and answers passwords/passphrases."""

    def handler(title: str, instructions: str, prompts: Prompts) -> list[str]:
        seen.append(prompts)
        return [PASSPHRASE if "assphrase" in text else password for text, _ in prompts]

    return handler


def test_encrypted_key_needs_its_passphrase(make_transport: MakeTransport, encrypted_key: Path) -> None:
    with pytest.raises(AuthenticationError) as err:
        make_transport(0, key_file=str(encrypted_key)).run(["true"])
    assert "is encrypted: give its passphrase" in str(err.value) and PASSPHRASE not in str(err.value)
    with pytest.raises(AuthenticationError, match="wrong passphrase"):
        make_transport(0, key_file=str(encrypted_key), passphrase="not it").run(["true"])
    transport = make_transport(0, key_file=str(encrypted_key), passphrase=PASSPHRASE)
    assert transport.run(["id", "-un"]).stdout.strip() == "rjalice"
    assert PASSPHRASE not in repr(transport) and PASSPHRASE not in repr(transport._creds)


def test_encrypted_key_passphrase_from_the_handler(
    make_transport: MakeTransport, encrypted_key: Path, cluster_users: list[dict[str, Any]]
) -> None:
    seen: list[Prompts] = []
    transport = make_transport(0, key_file=str(encrypted_key),
                               interactive_handler=answering(cluster_users[0]["password"], seen))
    assert transport.run(["id", "-un"]).stdout.strip() == "rjalice"
    assert seen == [[(f"Passphrase for {encrypted_key}: ", False)]]


def test_two_factor_needs_key_and_prompt(
    make_transport: MakeTransport, cluster: dict[str, Any], cluster_users: list[dict[str, Any]]
) -> None:
    two = cluster["ssh"]["two_factor"]
    assert two["methods"] == "publickey,keyboard-interactive"
    where = {"port": two["port"], "known_hosts": two["known_hosts_file"]}
    with pytest.raises(AuthenticationError) as err:
        make_transport(0, **where).run(["true"])  # the key alone is not enough
    assert "keyboard-interactive" in str(err.value)
    seen: list[Prompts] = []
    transport = make_transport(0, **where, interactive_handler=answering(cluster_users[0]["password"], seen))
    assert transport.run(["id", "-un"]).stdout.strip() == "rjalice"
    assert seen and all(not echo for prompts in seen for _, echo in prompts)
    with pytest.raises(AuthenticationError):
        make_transport(1, **where, interactive_handler=lambda t, i, p: ["wrong"] * len(p)).run(["true"])


def test_batch_settings_reach_passphrase_and_two_factor(
    cluster: dict[str, Any], cluster_users: list[dict[str, Any]], encrypted_key: Path, isolated_home: Path
) -> None:
    """A batch backend opened with settings only (``key_passphrase`` as in a TOML file) plus
    the interactive handler for the second factor."""
    two, alice = cluster["ssh"]["two_factor"], cluster_users[0]
    seen: list[Prompts] = []
    resource = remotejobs.open_resource(
        backend="slurm", host=cluster["ssh"]["host"], port=two["port"], known_hosts=two["known_hosts_file"],
        username=alice["name"], key_file=str(encrypted_key), key_passphrase=PASSPHRASE, use_agent=False,
        interactive_handler=answering(alice["password"], seen))
    assert isinstance(resource, BatchResource) and isinstance(resource.settings.key_passphrase, SecretStr)
    assert PASSPHRASE not in repr(resource.settings)
    with resource:
        resource.login()
        assert resource.user == "rjalice" and isinstance(resource.jobs(), list)
    assert seen and not any("assphrase" in text for prompts in seen for text, _ in prompts)


def test_cli_prompts_without_echo(
    cluster: dict[str, Any], cluster_users: list[dict[str, Any]], tmp_path: Path, isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    two = cluster["ssh"]["two_factor"]
    alice = cluster_users[0]
    config = tmp_path / "remotejobs.toml"
    config.write_text(
        "[resources.twofa]\nbackend = \"slurm\"\n"
        f"host = \"{cluster['ssh']['host']}\"\nport = {two['port']}\nusername = \"{alice['name']}\"\n"
        f"key_file = \"{alice['key_file']}\"\nknown_hosts = \"{two['known_hosts_file']}\"\nuse_agent = false\n")
    monkeypatch.setenv("REMOTEJOBS_CONFIG", str(config))
    monkeypatch.setenv("REMOTEJOBS_AGENT", "0")  # direct: no background agent left behind by the test
    runner = CliRunner()
    args = ["--resource", "twofa", "status", "--json"]
    # wrong first: a connection that authenticated is shared within the process
    wrong = runner.invoke(build(), args, input="wrong\n", obj=Ctx())
    assert isinstance(wrong.exception, AuthenticationError), wrong.output  # exit status 3 in main()
    result = runner.invoke(build(), args, input=alice["password"] + "\n", obj=Ctx())
    assert result.exit_code == 0, result.output
    assert "Password" in result.output and alice["password"] not in result.output  # prompted, not echoed
