"""SFTP throughput of SSHTransport.put/get against scp, over loopback to the test cluster.

Usage: .venv/bin/python benchmarks/sftp_throughput.py [--mb 256] [--rounds 2]

Brings the test cluster up (tests/cluster/up), writes a random file to /dev/shm (tmpfs; /tmp
if missing), and for each round times, side by side: scp upload, SSHTransport.put, scp
download, SSHTransport.get (best of the rounds is printed). The remote copy lives in the
first test user's /tmp directory. Not a test: timing goals are checked here, by eye or CI
trend, because shared machines make absolute figures noisy (target: put/get >= 90% of scp).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    import paramiko

    from remotejobs.transport.ssh import SSHTransport

    info = json.loads(subprocess.run([str(ROOT / "tests/cluster/up")], capture_output=True, text=True,
                                     check=True).stdout)
    ssh, user = info["ssh"], info["users"][0]
    scratch = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    work = Path(tempfile.mkdtemp(prefix="rj-bench-", dir=scratch))
    src, back = work / "data.bin", work / "back.bin"
    with src.open("wb") as fh:
        for _ in range(args.mb):
            fh.write(os.urandom(1 << 20))
    remote = f"/tmp/rj-bench-{os.getpid()}.bin"
    ssh_opts = ["-q", "-P", str(ssh["port"]), "-i", user["key_file"], "-o", "BatchMode=yes",
                "-o", f"UserKnownHostsFile={ssh['known_hosts_file']}", "-o", "StrictHostKeyChecking=yes"]
    dest = f"{user['name']}@{ssh['host']}:{remote}"
    transport = SSHTransport(host=ssh["host"], port=ssh["port"], username=user["name"],
                             key_file=user["key_file"], known_hosts=ssh["known_hosts_file"], use_agent=False)
    results: dict[str, list[float]] = {k: [] for k in ("scp put", "SSHTransport put", "paramiko default put",
                                                          "scp get", "SSHTransport get",
                                                          "paramiko default get")}
    try:
        transport.run(["true"])  # connect outside the timing
        # for reference: paramiko's SFTPClient with default settings on a default-window Transport
        plain_ssh = paramiko.SSHClient()
        plain_ssh.load_host_keys(ssh["known_hosts_file"])
        plain_ssh.connect(ssh["host"], ssh["port"], user["name"], key_filename=user["key_file"],
                          allow_agent=False, look_for_keys=False)
        plain = plain_ssh.open_sftp()
        for _ in range(args.rounds):
            results["scp put"].append(_timed(lambda: subprocess.run(["scp", *ssh_opts, str(src), dest],
                                                                      check=True)))
            results["SSHTransport put"].append(_timed(lambda: transport.put(str(src), remote)))
            results["paramiko default put"].append(_timed(lambda: plain.put(str(src), remote + ".plain")))
            results["scp get"].append(_timed(lambda: subprocess.run(["scp", *ssh_opts, dest, str(back)],
                                                                      check=True)))
            back.unlink()
            results["SSHTransport get"].append(_timed(lambda: transport.get(remote, str(back))))
            back.unlink()
            results["paramiko default get"].append(_timed(lambda: plain.get(remote, str(back))))
            back.unlink()
        plain.close()
        plain_ssh.close()
    finally:
        transport.run(["rm", "-f", "--", remote, remote + ".plain"])
        transport.close()
        for f in work.iterdir():
            f.unlink()
        work.rmdir()
    best = {name: args.mb / min(times) for name, times in results.items()}
    print(f"{args.mb} MB over loopback, best of {args.rounds} (MB/s):")
    for name, rate in best.items():
        print(f"  {name:22s} {rate:8.1f}")
    print(f"  (paramiko default put/get: {best['paramiko default put'] / best['scp put']:.0%} / "
          f"{best['paramiko default get'] / best['scp get']:.0%} of scp)")
    print(f"  put / scp: {best['SSHTransport put'] / best['scp put']:.0%}   "
          f"get / scp: {best['SSHTransport get'] / best['scp get']:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
