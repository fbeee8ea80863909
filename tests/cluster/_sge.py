"""Grid Engine in the test cluster: Debian 12's Son of Grid Engine 8.1.9 on real daemons.

Debian's ``gridengine-master``/``-exec``/``-client`` put the real programs in
``/usr/lib/gridengine``; the ``/usr/bin`` names are wrappers that set ``SGE_ROOT``.
``slurm-wlm-torque`` declares ``Conflicts: gridengine-client`` (both own ``/usr/bin/qsub``),
so Slurm's Torque wrappers are unpacked from their package into ``TORQUE_WRAPPERS``
instead (they are plain Perl scripts using the installed Slurm Perl modules).

What the packages leave to do, all idempotent:

- ``common/act_qmaster`` must hold this machine's host name, and ``common/host_aliases``
  must map ``localhost`` (what ``127.0.0.1`` resolves to first) onto it, or qmaster
  refuses clients and execd;
- the queue ``all.q`` on this host: 8 slots, ``pe_list smp`` (the package's template names
  parallel environments that do not exist), no load thresholds (the machine is shared and
  often loaded: the queue would go into alarm state), ``shell /bin/bash``;
- the scheduler runs every second, and the accounting file (what ``qacct`` reads) is
  flushed at once, so finished jobs reach ``qacct`` within about a second.

The daemons run in the foreground (``SGE_ND=1``) and are tracked like the others.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from _common import (
    DAEMON_ENV,
    OPT_DIR,
    ClusterError,
    ensure_dir,
    log,
    run,
    sha256_of,
    tail,
    wait_for,
    write_if_changed,
)
from _daemons import Daemon

SGE_ROOT = Path("/var/lib/gridengine")
SGE_CELL = "default"
SGE_BIN = Path("/usr/lib/gridengine")
COMMON = SGE_ROOT / SGE_CELL / "common"
SGE_SPOOL = Path("/var/spool/gridengine")
QMASTER_PORT = 6444
EXECD_PORT = 6445
QUEUE = "all.q"
PE = "smp"
SLOTS = 8
ADMIN = "sgeadmin"
SGE_ENV = {"SGE_ROOT": str(SGE_ROOT), "SGE_CELL": SGE_CELL,
           "SGE_QMASTER_PORT": str(QMASTER_PORT), "SGE_EXECD_PORT": str(EXECD_PORT)}
TORQUE_WRAPPERS = OPT_DIR / "slurm-wlm-torque" / "bin"
SLURM_PROGRAMS = ("salloc", "sbatch", "srun")

PE_CONF = {
    "pe_name": PE, "slots": "999", "user_lists": "NONE", "xuser_lists": "NONE",
    "start_proc_args": "NONE", "stop_proc_args": "NONE", "allocation_rule": "$pe_slots",
    "control_slaves": "FALSE", "job_is_first_task": "TRUE", "urgency_slots": "min",
    "accounting_summary": "FALSE", "qsort_args": "NONE",
}
# The package's queue template (``qconf -aq``), with the values we need.
_LIMITS = ("rt", "cpu", "fsize", "data", "stack", "core", "rss", "vmem")
QUEUE_CONF = {
    "qname": QUEUE, "hostlist": "", "seq_no": "0", "load_thresholds": "NONE",
    "suspend_thresholds": "NONE", "nsuspend": "1", "suspend_interval": "00:05:00", "priority": "0",
    "min_cpu_interval": "00:05:00", "processors": "UNDEFINED", "qtype": "BATCH INTERACTIVE",
    "ckpt_list": "NONE", "pe_list": PE, "rerun": "FALSE", "slots": str(SLOTS), "tmpdir": "/tmp",
    "shell": "/bin/bash", "prolog": "NONE", "epilog": "NONE", "shell_start_mode": "posix_compliant",
    "starter_method": "NONE", "suspend_method": "NONE", "resume_method": "NONE",
    "terminate_method": "NONE", "notify": "00:00:60", "owner_list": "NONE", "user_lists": "NONE",
    "xuser_lists": "NONE", "subordinate_list": "NONE", "complex_values": "NONE", "projects": "NONE",
    "xprojects": "NONE", "calendar": "NONE", "initial_state": "default",
    **{f"{kind}_{limit}": "INFINITY" for limit in _LIMITS for kind in ("s", "h")},
}
REPORTING = ("accounting=true reporting=false flush_time=00:00:01 accounting_flush_time=00:00:00 "
             "joblog=false sharelog=00:00:00")
SCHED = {"schedule_interval": "0:0:1", "flush_submit_sec": "1", "flush_finish_sec": "1"}


# --------------------------------------------------------------------------- provisioning


def install_torque_wrappers() -> str:
    """Unpack ``slurm-wlm-torque``'s wrappers (``apt-get download`` + ``dpkg-deb -x``)."""
    if all((TORQUE_WRAPPERS / p).exists() for p in ("qsub", *SLURM_PROGRAMS)):
        return str(TORQUE_WRAPPERS)
    log(f"unpacking slurm-wlm-torque into {TORQUE_WRAPPERS} (it conflicts with gridengine-client)")
    with tempfile.TemporaryDirectory(prefix="rj-torque-") as tmp:
        os.chmod(tmp, 0o755)  # apt's _apt user downloads into it
        download = ["apt-get", "-q", "download", "slurm-wlm-torque"]
        if run(download, check=False, timeout=300, cwd=tmp).returncode != 0:
            run(["apt-get", "-q", "update"], timeout=600)
            run(download, timeout=300, cwd=tmp)
        debs = list(Path(tmp).glob("slurm-wlm-torque_*.deb"))
        if not debs:
            raise ClusterError(f"apt-get download slurm-wlm-torque left no package in {tmp}")
        run(["dpkg-deb", "-x", str(debs[0]), f"{tmp}/root"])
        ensure_dir(TORQUE_WRAPPERS.parent, 0o755)
        staging = TORQUE_WRAPPERS.with_name("bin.new")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(f"{tmp}/root/usr/bin", staging, symlinks=True)
        # The wrappers run Slurm's commands from their own directory (``${FindBin::Bin}/sbatch``).
        for program in SLURM_PROGRAMS:
            (staging / program).symlink_to(f"/usr/bin/{program}")
        shutil.rmtree(TORQUE_WRAPPERS, ignore_errors=True)
        staging.rename(TORQUE_WRAPPERS)
    return str(TORQUE_WRAPPERS)


def _loopback_names() -> list[str]:
    names: list[str] = []
    for line in Path("/etc/hosts").read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if fields and fields[0] == "127.0.0.1":
            names += [n for n in fields[1:] if n not in names]
    return names or ["localhost"]


def ensure_cell(host: str) -> None:
    """act_qmaster, host_aliases and the qmaster spool (Debian's init_cluster, if missing)."""
    admin = pwd.getpwnam(ADMIN)
    for d in (SGE_SPOOL / "qmaster", SGE_SPOOL / "qmaster" / "job_scripts", SGE_SPOOL / "spooldb",
              SGE_SPOOL / "execd"):
        ensure_dir(d, 0o755, admin.pw_uid, admin.pw_gid)
    if not (SGE_SPOOL / "spooldb" / "sge").exists():
        log("initialising the Grid Engine spool (Debian's init_cluster)")
        run(["su", "-s", "/bin/sh", "-c", "/usr/share/gridengine/scripts/init_cluster "
             f"{SGE_ROOT} {SGE_CELL} {SGE_SPOOL}/spooldb {ADMIN}", ADMIN], timeout=120)
    aliases = [host, *(n for n in _loopback_names() if n != host)]
    write_if_changed(COMMON / "act_qmaster", host + "\n", 0o644, admin.pw_uid, admin.pw_gid)
    write_if_changed(COMMON / "host_aliases", " ".join(aliases) + "\n", 0o644, admin.pw_uid, admin.pw_gid)


# --------------------------------------------------------------------------- daemons


def qcmd(program: str, *args: str, check: bool = False, timeout: float = 30, cwd: str | None = None
         ) -> subprocess.CompletedProcess[str]:
    return run([str(SGE_BIN / program), *args], check=check, timeout=timeout, cwd=cwd,
               env={**DAEMON_ENV, **SGE_ENV})


def qmaster_ok() -> bool:
    return qcmd("qconf", "-sh", timeout=15).returncode == 0


def execd_ok(host: str) -> bool:
    """The execd reported a load (qhost shows ``-`` until it has)."""
    out = qcmd("qhost", "-h", host, timeout=15).stdout.splitlines()
    rows = [line.split() for line in out if line.split()[:1] == [host]]
    return bool(rows) and len(rows[0]) > 6 and rows[0][6] != "-"


def daemons(host: str) -> list[Daemon]:
    env = {**DAEMON_ENV, **SGE_ENV, "SGE_ND": "1"}  # SGE_ND: stay in the foreground
    fingerprint = sha256_of(COMMON / "bootstrap", COMMON / "act_qmaster", COMMON / "host_aliases")
    return [
        Daemon("sge_qmaster", [str(SGE_BIN / "sge_qmaster")], fingerprint=fingerprint,
               ready=lambda pid: qmaster_ok(), env=env,
               extra_logs=[SGE_SPOOL / "qmaster" / "messages"]),
        Daemon("sge_execd", [str(SGE_BIN / "sge_execd")], fingerprint=fingerprint,
               ready=lambda pid: execd_ok(host), env=env,
               extra_logs=[SGE_SPOOL / "execd" / "localhost" / "messages",
                           SGE_SPOOL / "execd" / host / "messages"]),
    ]


# --------------------------------------------------------------------------- configuration


def parse_conf(text: str) -> dict[str, str]:
    """``key value`` lines of qconf output, with ``\\`` continuation lines joined."""
    conf: dict[str, str] = {}
    logical = text.replace("\\\n", " ")
    for line in logical.splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.strip().partition(" ")
            conf[key] = " ".join(value.split())
    return conf


def _conf_text(conf: dict[str, str]) -> str:
    return "".join(f"{k:<34}{v}\n" for k, v in conf.items())


def _apply(show: list[str], add: str, modify: str, wanted: dict[str, str], name: str = "conf") -> bool:
    """Compare ``qconf <show>`` with ``wanted``; add or modify from a file when different."""
    proc = qcmd("qconf", *show)
    current = parse_conf(proc.stdout) if proc.returncode == 0 else None
    if current is not None and all(current.get(k) == " ".join(v.split()) for k, v in wanted.items()):
        return False
    with tempfile.TemporaryDirectory(prefix="rj-sge-") as tmp:
        path = Path(tmp) / name
        path.write_text(_conf_text({**(current or {}), **wanted}))
        flag = add if current is None else modify
        log(f"Grid Engine: qconf {flag} {name}")
        # -Mconf takes the configuration's name from the file name: run in its directory.
        proc = qcmd("qconf", flag, name, cwd=tmp)
        if proc.returncode != 0:
            raise ClusterError(f"qconf {flag} {name} failed: {proc.stdout} {proc.stderr}")
    return True


def configure(host: str) -> None:
    """Hosts, the PE, the queue, the global and scheduler configuration (only what differs)."""
    if host not in qcmd("qconf", "-ss").stdout.split():
        qcmd("qconf", "-as", host, check=True)
    _apply(["-sp", PE], "-Ap", "-Mp", PE_CONF, name=PE)
    _apply(["-sq", QUEUE], "-Aq", "-Mq", {**QUEUE_CONF, "hostlist": host}, name=QUEUE)
    _apply(["-sconf", "global"], "-Aconf", "-Mconf", {"reporting_params": REPORTING}, name="global")
    _apply(["-ssconf"], "-Msconf", "-Msconf", SCHED, name="sched_conf")


def queue_states(host: str) -> str | None:
    """The state letters of ``all.q@host`` ('' when fine), None when not listed."""
    for line in qcmd("qstat", "-f", "-q", f"{QUEUE}@{host}").stdout.splitlines():
        fields = line.split()
        if fields and fields[0] == f"{QUEUE}@{host}":
            return fields[5] if len(fields) > 5 else ""
    return None


def wait_queue(host: str) -> None:
    def usable() -> bool:
        states = queue_states(host)
        if states and "E" in states:
            qcmd("qmod", "-c", f"{QUEUE}@{host}")
        if states and "d" in states:
            qcmd("qmod", "-e", f"{QUEUE}@{host}")
        return states == ""

    wait_for(f"Grid Engine queue {QUEUE}@{host} to be usable", usable,
             on_fail=lambda: f"qstat -f: {qcmd('qstat', '-f').stdout}\n"
             + tail(SGE_SPOOL / "qmaster" / "messages"))


def sge_json(host: str) -> dict[str, Any]:
    return {
        "root": str(SGE_ROOT), "cell": SGE_CELL, "bin_dir": str(SGE_BIN), "env": dict(SGE_ENV),
        "qmaster_port": QMASTER_PORT, "execd_port": EXECD_PORT, "host": host, "queue": QUEUE,
        "pe": PE, "slots": SLOTS, "accounting_file": str(COMMON / "accounting"),
        "spool": str(SGE_SPOOL),
    }
