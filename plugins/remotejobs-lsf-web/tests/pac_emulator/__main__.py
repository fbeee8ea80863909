"""Run the PAC emulator on its own, for trying the ``lsf-web`` backend by hand (docs/test-cluster.md).

    python -m pac_emulator start CLUSTER_JSON DIR   # prints {"base_url", "ca_bundle", "pid"} once serving
    python -m pac_emulator stop DIR                 # stops the one that ``start`` left running

``CLUSTER_JSON`` is what ``tests/cluster/up`` printed (passwords are checked by an SSH login
to that cluster). ``DIR`` receives the TLS files (``ca.pem`` is the CA to trust), ``pac.json``
and the server's log ``pac.log``. ``start`` returns once the server answers; the server runs detached until
``stop``. Run with ``plugins/remotejobs-lsf-web/tests`` on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from . import PacEmulator, SshPasswordChecker, make_tls_files


def _serve(cluster_json: Path, directory: Path) -> None:
    ssh = json.loads(cluster_json.read_text())["ssh"]
    tls = make_tls_files(directory)
    pac = PacEmulator(checker=SshPasswordChecker(ssh["host"], int(ssh["port"]), ssh["known_hosts_file"]),
                      tls=tls).start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    info = {"base_url": pac.base_url, "ca_bundle": str(tls.ca_cert), "pid": os.getpid()}
    (directory / "pac.json").write_text(json.dumps(info) + "\n")
    print(json.dumps(info), flush=True)
    sys.stdout.close()
    stopped.wait()
    pac.stop()


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "serve":
        _serve(Path(argv[1]), Path(argv[2]))
        return 0
    if len(argv) == 3 and argv[0] == "start":
        directory = Path(argv[2]).resolve()
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / "pac.log", "ab") as log:  # the server holds no pipe of the caller's
            child = subprocess.Popen([sys.executable, "-m", "pac_emulator", "serve", argv[1], str(directory)],
                                     stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, stderr=log, text=True,
                                     start_new_session=True)
        assert child.stdout is not None
        line = child.stdout.readline()
        if not line:
            print(f"pac_emulator: the server did not start (exit {child.wait()}; see {directory}/pac.log)",
                  file=sys.stderr)
            return 1
        print(line, end="")
        return 0
    if len(argv) == 2 and argv[0] == "stop":
        record = Path(argv[1]) / "pac.json"
        try:
            pid = int(json.loads(record.read_text())["pid"])
            os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError, KeyError) as exc:
            print(f"pac_emulator: nothing to stop in {record}: {exc}", file=sys.stderr)
            return 1
        record.unlink()
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
