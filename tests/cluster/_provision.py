"""Static provisioning: packages, users, SSH keys and configs, emulator install.

None of this starts a daemon; it is what the Dockerfile runs at build time
(``up --provision-only``) and what ``up`` re-checks (cheaply) on every run.
"""

from __future__ import annotations

import filecmp
import hashlib
import json
import os
import pwd
import secrets
import shutil
import stat
from pathlib import Path
from typing import Any

from _common import (
    EMULATOR_SPOOL,
    LOG_DIR,
    OPT_DIR,
    RUN_DIR,
    SPOOL_DIR,
    SSH_2FA_PORT,
    SSH_HOST,
    SSH_LISTEN,
    SSH_PORT,
    STATE_DIR,
    USERS,
    ClusterError,
    ensure_dir,
    log,
    run,
    write_if_changed,
)
from _sge import install_torque_wrappers

# slurm-wlm-torque declares Conflicts: gridengine-client (both own /usr/bin/qsub): its
# wrappers are unpacked into the test cluster's prefix instead (_sge.install_torque_wrappers),
# with the Perl modules they use installed here.
PACKAGES = (
    "openssh-server", "munge", "slurm-wlm", "libslurm-perl", "libslurmdb-perl", "libswitch-perl",
    "gridengine-master", "gridengine-exec", "gridengine-client",
    # Debian's MPIs, for the mpirun launcher's tests (Open MPI is the default mpirun; MPICH's
    # alternative has a lower priority and is reached as mpirun.mpich; ~20 s with libraries)
    "openmpi-bin", "mpich",
    # Slurm accounting (_accounting.py): slurmdbd and MariaDB's server without its init
    # scripts (mariadb-server-core; the client core has my_print_defaults for mariadb-install-db).
    "slurmdbd", "mariadb-server-core", "mariadb-client-core",
)
# A file each package installs; if all exist we skip dpkg/apt entirely (fast path).
PACKAGE_MARKERS = {
    "openssh-server": "/usr/sbin/sshd",
    "munge": "/usr/sbin/munged",
    "slurm-wlm": "/usr/sbin/slurmctld",
    "slurmd": "/usr/sbin/slurmd",
    "slurm-client": "/usr/bin/sbatch",
    "libslurm-perl": "/usr/lib/x86_64-linux-gnu/perl5/5.36/Slurm.pm",
    "libswitch-perl": "/usr/share/perl5/Switch.pm",
    "gridengine-master": "/usr/lib/gridengine/sge_qmaster",
    "gridengine-exec": "/usr/lib/gridengine/sge_execd",
    "gridengine-client": "/usr/lib/gridengine/qsub",
    "openmpi-bin": "/usr/bin/mpirun.openmpi",
    "mpich": "/usr/bin/mpirun.mpich",
    "slurmdbd": "/usr/sbin/slurmdbd",
    "mariadb-server-core": "/usr/sbin/mariadbd",
    "mariadb-client-core": "/usr/bin/my_print_defaults",
}
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")

HOST_KEY = STATE_DIR / "ssh_host_ed25519_key"
SSHD_CONFIG = STATE_DIR / "sshd_config"
SSHD_2FA_CONFIG = STATE_DIR / "sshd_2fa_config"
KNOWN_HOSTS = STATE_DIR / "known_hosts"
KNOWN_HOSTS_2FA = STATE_DIR / "known_hosts_2fa"
PASSWORDS = STATE_DIR / "passwords.json"
EMULATOR_SRC = Path(__file__).resolve().parent / "emulators"
EMULATORS = ("torque", "lsf", "pbs")


def key_file(user: str) -> Path:
    return STATE_DIR / f"{user}_ed25519"


# --------------------------------------------------------------------------- packages


def install_packages() -> None:
    if all(os.path.exists(p) for p in PACKAGE_MARKERS.values()):
        return
    log(f"installing {' '.join(PACKAGES)} with apt-get (this takes ~10-60 s)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Keep maintainer scripts from starting the system services (no systemd here,
    # and a system sshd/munged/slurmctld would fight with ours over ports/sockets).
    created_policy = not POLICY_RC_D.exists()
    if created_policy:
        write_if_changed(POLICY_RC_D, "#!/bin/sh\nexit 101\n", mode=0o755)
    try:
        apt = ["apt-get", "-o", "DPkg::Lock::Timeout=300", "-y", "-q"]
        proc = run([*apt, "install", "--no-install-recommends", *PACKAGES], check=False, timeout=900, env=env)
        if proc.returncode != 0 and "Unable to locate package" in proc.stderr + proc.stdout:
            run([*apt, "update"], timeout=600, env=env)
            proc = run(
                [*apt, "install", "--no-install-recommends", *PACKAGES], check=False, timeout=900, env=env
            )
        if proc.returncode != 0:
            raise ClusterError(f"apt-get install failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    finally:
        if created_policy:
            POLICY_RC_D.unlink(missing_ok=True)
    missing = [p for p in PACKAGE_MARKERS.values() if not os.path.exists(p)]
    if missing:
        raise ClusterError(f"packages installed but files still missing: {missing}")


# --------------------------------------------------------------------------- dirs, users


def make_dirs() -> None:
    ensure_dir(STATE_DIR, 0o700)
    ensure_dir(RUN_DIR, 0o700)
    ensure_dir(LOG_DIR, 0o700)
    ensure_dir(SPOOL_DIR, 0o755)
    ensure_dir(SPOOL_DIR / "slurmctld", 0o755)
    ensure_dir(SPOOL_DIR / "slurmd", 0o755)
    ensure_dir(EMULATOR_SPOOL, 0o1777)
    # The emulators' own spools: root-owned tops (their config files are trusted only when
    # root owns them), world-writable sticky dirs below for per-user records.
    for emulator, shared in (("lsf", ("jobs",)), ("torque", ("jobs", "scripts")), ("pbs", ("jobs", "scripts"))):
        ensure_dir(EMULATOR_SPOOL / emulator, 0o755)
        for sub in shared:
            ensure_dir(EMULATOR_SPOOL / emulator / sub, 0o1777)
    ensure_dir(Path("/run/sshd"), 0o755)  # sshd privilege-separation dir
    munge = pwd.getpwnam("munge")
    ensure_dir(Path("/run/munge"), 0o755, munge.pw_uid, munge.pw_gid)
    ensure_dir(Path("/var/lib/munge"), 0o700, munge.pw_uid, munge.pw_gid)


def _load_passwords() -> dict[str, str]:
    try:
        passwords: dict[str, str] = json.loads(PASSWORDS.read_text())
        return passwords
    except FileNotFoundError:
        return {}


def _shadow_hash(user: str) -> str | None:
    for line in Path("/etc/shadow").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return fields[1]
    return None


def ensure_users() -> dict[str, str]:
    """Create the test users, set their (generated once) passwords. Returns name -> password."""
    passwords = _load_passwords()
    for user in USERS:
        passwords.setdefault(user, secrets.token_urlsafe(18))
    write_if_changed(PASSWORDS, json.dumps(passwords, indent=1, sort_keys=True) + "\n", mode=0o600)
    for user in USERS:
        try:
            pw = pwd.getpwnam(user)
        except KeyError:
            log(f"creating user {user}")
            run(["useradd", "--create-home", "--shell", "/bin/bash", "--user-group", user])
            pw = pwd.getpwnam(user)
        if pw.pw_shell != "/bin/bash":
            run(["usermod", "--shell", "/bin/bash", user])
        home = Path(pw.pw_dir)
        if not home.is_dir():
            ensure_dir(home, 0o750, pw.pw_uid, pw.pw_gid)
        # Only re-set the password if /etc/shadow changed since we last set it.
        stamp = STATE_DIR / f"{user}.shadowstamp"
        current = _shadow_hash(user)
        if not stamp.exists() or stamp.read_text() != current:
            log(f"setting password of {user}")
            run(["chpasswd"], input=f"{user}:{passwords[user]}\n")
            write_if_changed(stamp, _shadow_hash(user) or "", mode=0o600)
    return passwords


# --------------------------------------------------------------------------- ssh


def _keygen(path: Path, comment: str) -> None:
    if path.exists() and path.with_suffix(".pub").exists():
        return
    path.unlink(missing_ok=True)
    path.with_suffix(".pub").unlink(missing_ok=True)
    log(f"generating ed25519 key {path}")
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])
    os.chmod(path, 0o600)


def ensure_user_keys() -> None:
    for user in USERS:
        key = key_file(user)
        _keygen(key, f"{user}@remotejobs-testcluster")
        pw = pwd.getpwnam(user)
        ssh_dir = Path(pw.pw_dir) / ".ssh"
        ensure_dir(ssh_dir, 0o700, pw.pw_uid, pw.pw_gid)
        pub = key.with_suffix(".pub").read_text()
        write_if_changed(ssh_dir / "authorized_keys", pub, 0o600, pw.pw_uid, pw.pw_gid)


def sshd_config_text(port: int = SSH_PORT, methods: str | None = None) -> str:
    """The test sshd's config; ``methods`` sets ``AuthenticationMethods`` (sshd_config(5):
    ``publickey,keyboard-interactive`` requires both, in that order: a second factor)."""
    users = " ".join(USERS)
    required = f"AuthenticationMethods {methods}\n" if methods else ""
    return f"""\
# Generated by tests/cluster/up -- the remotejobs test cluster's own sshd.
{required}Port {port}
ListenAddress {SSH_LISTEN}
HostKey {HOST_KEY}
PidFile none
UsePAM yes
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication yes
PermitEmptyPasswords no
PermitRootLogin no
AllowUsers {users}
AuthorizedKeysFile .ssh/authorized_keys
StrictModes yes
UseDNS no
X11Forwarding no
AllowTcpForwarding yes
PrintMotd no
MaxStartups 200:30:400
MaxSessions 100
MaxAuthTries 10
LoginGraceTime 60
ClientAliveInterval 0
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
LogLevel INFO
"""


def ensure_sshd_config() -> dict[str, str]:
    """Host key, sshd_config and known_hosts. Returns the host-key facts for the JSON."""
    _keygen(HOST_KEY, "remotejobs-testcluster-host")
    write_if_changed(SSHD_CONFIG, sshd_config_text(), mode=0o600)
    write_if_changed(SSHD_2FA_CONFIG, sshd_config_text(SSH_2FA_PORT, TWO_FACTOR_METHODS), mode=0o600)
    key_type, key_b64 = HOST_KEY.with_suffix(".pub").read_text().split()[:2]
    host_key = f"{key_type} {key_b64}"
    known = f"[{SSH_HOST}]:{SSH_PORT} {host_key}"
    write_if_changed(KNOWN_HOSTS, known + "\n", mode=0o600)
    write_if_changed(KNOWN_HOSTS_2FA, f"[{SSH_HOST}]:{SSH_2FA_PORT} {host_key}\n", mode=0o600)
    return {"host_key": host_key, "host_key_type": key_type, "known_hosts_line": known}


def check_sshd_config() -> None:
    for config in (SSHD_CONFIG, SSHD_2FA_CONFIG):
        run(["/usr/sbin/sshd", "-t", "-f", str(config)])


#: The second factor the 2FA sshd asks for after the key: PAM's password prompt.
TWO_FACTOR_METHODS = "publickey,keyboard-interactive"


# --------------------------------------------------------------------------- emulators


def _sync_tree(src: Path, dst: Path) -> int:
    """Mirror ``src`` into ``dst`` (world-readable, executables 0755). Returns #changes."""
    changes = 0
    ensure_dir(dst, 0o755)
    wanted = set()
    if src.is_dir():
        for entry in sorted(src.iterdir()):
            if entry.name == "__pycache__" or entry.name.endswith(".pyc") or entry.name.startswith("."):
                continue
            wanted.add(entry.name)
            target = dst / entry.name
            if entry.is_dir():
                if target.exists() and not target.is_dir():
                    target.unlink()
                changes += _sync_tree(entry, target)
                continue
            mode = 0o755 if entry.stat().st_mode & stat.S_IXUSR else 0o644
            if target.is_dir():
                shutil.rmtree(target)
            if not target.exists() or not filecmp.cmp(entry, target, shallow=False):
                shutil.copyfile(entry, target)
                changes += 1
            if target.stat().st_mode & 0o7777 != mode:
                os.chmod(target, mode)
                changes += 1
    for stale in dst.iterdir():
        if stale.name not in wanted:
            shutil.rmtree(stale) if stale.is_dir() and not stale.is_symlink() else stale.unlink()
            changes += 1
    return changes


def _checkout_key() -> str:
    """A short key for this checkout, so that two checkouts (git worktrees) sharing one
    machine install their own emulator versions side by side instead of overwriting."""
    return hashlib.sha1(str(EMULATOR_SRC).encode()).hexdigest()[:12]


def install_emulators() -> dict[str, str]:
    """Copy tests/cluster/emulators/<kind>/ to /opt/remotejobs-test/checkouts/<key>/<kind>/bin."""
    base = OPT_DIR / "checkouts" / _checkout_key()
    for d in (OPT_DIR, OPT_DIR / "checkouts", base):
        ensure_dir(d, 0o755)
    dirs = {}
    for kind in EMULATORS:
        ensure_dir(base / kind, 0o755)
        dst = base / kind / "bin"
        n = _sync_tree(EMULATOR_SRC / kind, dst)
        if n:
            log(f"emulators/{kind}: {n} file change(s) installed into {dst}")
        dirs[kind] = str(dst)
    return dirs


def provision() -> dict[str, Any]:
    """All static provisioning. Returns facts needed for the JSON."""
    install_packages()
    make_dirs()
    passwords = ensure_users()
    ensure_user_keys()
    ssh_facts = ensure_sshd_config()
    emulators = install_emulators()
    torque_wrappers = install_torque_wrappers()
    return {"passwords": passwords, "ssh": ssh_facts, "emulators": emulators, "torque_wrappers": torque_wrappers}
