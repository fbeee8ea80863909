"""Command execution over the shared connection, against the real test cluster sshd."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from remotejobs.errors import OperationTimeoutError, TransportError
from remotejobs.transport import _ssh_pool
from remotejobs.transport.ssh import SSHTransport

from .conftest import kill_server_side

pytestmark = pytest.mark.cluster
MakeTransport = Callable[..., SSHTransport]

NASTY = [
    "two words",
    "single ' quote",
    'double " quote',
    "$(touch {canary})",
    "`touch {canary}`",
    "; touch {canary}",
    "a\nnewline; touch {canary}",
    "ünïcødé ✓ 中文",
    "back\\slash",
    "*",
    "~",
    "$HOME",
    "",
    "--",
    "-n",
    "RJO0123 0",
]


def test_argv_items_arrive_verbatim_and_run_nothing(make_transport: MakeTransport) -> None:
    transport = make_transport(0)
    canary = f"/tmp/rj-canary-{time.time_ns()}"
    items = [item.format(canary=canary) for item in NASTY]
    result = transport.run(["printf", "<%s>\n", *items])
    assert result.exit_status == 0
    assert result.stdout == "".join(f"<{item}>\n" for item in items)
    assert transport.run(["test", "-e", canary]).exit_status == 1
    # the program name itself is quoted too
    assert transport.run([f"no such program; touch {canary}"]).exit_status == 127
    assert transport.run(["test", "-e", canary]).exit_status == 1


def test_exit_status_stdout_stderr_are_separated(make_transport: MakeTransport) -> None:
    transport = make_transport(0)
    result = transport.run(["sh", "-c", 'printf "out1\\nout2"; printf "err1\\n" >&2; exit 7'])
    assert (result.exit_status, result.stdout, result.stderr) == (7, "out1\nout2", "err1\n")
    assert transport.run(["false"]).exit_status == 1
    assert transport.run(["exit", "5"]).exit_status == 5  # as under sh -c; exits only a subshell
    assert transport.run(["true"]).exit_status == 0
    big = transport.run(["sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' a; head -c 3000000 /dev/zero "
                         "| tr '\\0' b >&2"])
    assert big.stdout == "a" * 3_000_000 and big.stderr == "b" * 3_000_000


def test_builtins_do_not_change_the_shell(make_transport: MakeTransport) -> None:
    transport = make_transport(1)
    assert transport.run(["cd", "/"]).exit_status in (0, 127)
    assert transport.run(["pwd"]).stdout.strip() == transport.home()


@pytest.mark.parametrize(
    "stdin",
    [
        "line one\nline two without newline",
        "",
        "\n\n",
        "RJ_EOF_0123\nRJO00 0\nRJE00\n__rj_status=9; exit 3\n$(touch /tmp/x) `id`\n",
        "binary-ish \x01\x02\x7f é ✓ \t\r\n end",
        "x" * 300_000,
    ],
)
def test_stdin_is_delivered_verbatim(make_transport: MakeTransport, stdin: str) -> None:
    result = make_transport(0).run(["cat"], stdin=stdin)
    assert result.exit_status == 0 and result.stdout == stdin and result.stderr == ""


def test_exec_fallback_gives_the_same_results(make_transport: MakeTransport) -> None:
    transport = make_transport(1)
    connection = transport.connect()
    connection.shell_works = False
    try:
        result = transport.run(["sh", "-c", "cat; echo err >&2; exit 4"], stdin="in\nput")
        assert (result.exit_status, result.stdout, result.stderr) == (4, "in\nput", "err\n")
        assert transport.run(["printf", "<%s>", "$(id)"]).stdout == "<$(id)>"
    finally:
        connection.shell_works = True


def test_timeout_discards_the_channel_and_the_next_command_works(make_transport: MakeTransport) -> None:
    transport = make_transport(0)
    with pytest.raises(OperationTimeoutError) as info:
        transport.run(["sleep", "10"], timeout=0.5)
    assert info.value.transient is True and "sleep" in str(info.value)
    assert transport.run(["echo", "still here"]).stdout == "still here\n"


def test_connection_is_shared_per_host_port_user(make_transport: MakeTransport,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # A pool of this test's own: the pool is per process, and an earlier test of the run may
    # still hold a connection to the same user, which would keep it open after a2.close().
    monkeypatch.setattr(_ssh_pool, "_POOL", {})
    a1, a2, b = make_transport(0), make_transport(0), make_transport(1)
    shared = a1.connect().paramiko_transport
    assert shared is not None
    assert a2.connect().paramiko_transport is shared
    assert b.connect().paramiko_transport is not shared
    a1.close()
    assert a2.run(["true"]).exit_status == 0 and shared.is_active()
    a2.close()
    assert not shared.is_active()  # last user released it


def test_many_threads_get_their_own_outputs(make_transport: MakeTransport) -> None:
    transports = [make_transport(0), make_transport(0), make_transport(1)]

    def work(i: int) -> None:
        transport = transports[i % len(transports)]
        for j in range(15):
            token = f"t{i}-{j}"
            result = transport.run(["sh", "-c", 'printf "%s" "$1"; printf "e%s" "$1" >&2', "sh", token],
                                   stdin=token if j % 3 == 0 else None)
            assert (result.stdout, result.stderr) == (token, f"e{token}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(work, i) for i in range(12)]:
            future.result()


def test_idempotent_call_reconnects_after_the_server_side_dies(make_transport: MakeTransport) -> None:
    transport = make_transport(1)
    assert transport.run(["true"]).exit_status == 0
    before = transport.connect().paramiko_transport
    kill_server_side(transport)
    assert transport.run(["echo", "back"]).stdout == "back\n"
    assert transport.connect().paramiko_transport is not before


def test_joining_a_connection_whose_server_side_died_reconnects(
    make_transport: MakeTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another holder keeps a dead connection in the pool (its server side was killed): a
    new user of it gets a fresh connection, not paramiko's "No existing session"."""
    monkeypatch.setattr(_ssh_pool, "_POOL", {})  # this test's own pool (see above)
    holder = make_transport(1)
    assert holder.run(["true"]).exit_status == 0
    dead = holder.connect().paramiko_transport
    assert dead is not None
    kill_server_side(holder)
    deadline = time.monotonic() + 30
    while dead.is_active():  # paramiko's reader thread sees the EOF
        assert time.monotonic() < deadline, "the client never noticed the killed server side"
        time.sleep(0.02)
    joiner = make_transport(1)
    assert joiner.run(["echo", "joined"]).stdout == "joined\n"
    assert joiner.connect() is holder.connect() and joiner.connect().paramiko_transport is not dead


def test_non_idempotent_call_in_flight_is_not_retried(
    make_transport: MakeTransport, cluster_users: list[dict[str, Any]]
) -> None:
    transport = make_transport(1)
    duration = f"{7 + time.time_ns() % 1000 / 1000:.3f}"  # unique: find exactly our sleep
    outcome: dict[str, BaseException | None] = {}

    def submit() -> None:
        try:
            transport.run(["sleep", duration], idempotent=False)
            outcome["error"] = None
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = exc

    worker = threading.Thread(target=submit)
    worker.start()
    deadline = time.monotonic() + 20
    while subprocess.run(["pgrep", "-u", cluster_users[1]["name"], "-f", f"^sleep {duration}$"],
                         capture_output=True, check=False).returncode != 0:
        assert time.monotonic() < deadline, "the remote sleep never started"
        time.sleep(0.02)  # polling for a remote process to appear
    kill_server_side(transport)
    worker.join(30)
    error = outcome["error"]
    assert isinstance(error, TransportError) and not isinstance(error, OperationTimeoutError)
    assert error.transient is True and "outcome is unknown" in str(error)
    assert transport.run(["echo", "ok"], idempotent=False).stdout == "ok\n"
