"""paramiko stays out of the core, and secrets stay out of messages."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from remotejobs.errors import AuthenticationError, TransportError
from remotejobs.transport.ssh import SSHTransport

from .conftest import encrypt_key

MakeTransport = Callable[..., SSHTransport]


def test_core_and_local_backend_do_not_import_paramiko(tmp_path: Path) -> None:
    code = (
        "import sys, remotejobs\n"
        "from remotejobs.transport import LocalTransport\n"
        f"resource = remotejobs.open_resource(backend='local', state_dir={str(tmp_path)!r})\n"
        "assert LocalTransport().run(['true']).exit_status == 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'paramiko'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_unreachable_port_is_a_transient_transport_error(isolated_home: Path) -> None:
    transport = SSHTransport(host="127.0.0.1", port=1, username="nobody", use_agent=False, connect_timeout=5)
    with pytest.raises(TransportError) as info:
        transport.run(["true"])
    assert info.value.transient is True and "127.0.0.1:1" in str(info.value)
    assert isinstance(info.value.__cause__, OSError)


@pytest.mark.cluster
def test_encrypted_key_needs_its_passphrase(
    make_transport: MakeTransport, cluster_users: list[dict[str, Any]], tmp_path: Path
) -> None:
    key = tmp_path / "enc_key"
    secret = "pass phrase ✓ 42"
    encrypt_key(cluster_users[0]["key_file"], key, secret)
    with pytest.raises(AuthenticationError) as info:
        make_transport(0, key_file=str(key)).run(["true"])
    assert "encrypted" in str(info.value) and secret not in str(info.value)
    with pytest.raises(AuthenticationError) as info:
        make_transport(0, key_file=str(key), passphrase="wrong").run(["true"])
    assert "wrong" not in str(info.value).replace("wrong passphrase", "")
    transport = make_transport(0, key_file=str(key), passphrase=secret)
    assert transport.run(["id", "-un"]).stdout.strip() == cluster_users[0]["name"]
    assert secret not in repr(transport) and secret not in repr(transport._creds)
