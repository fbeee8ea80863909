"""Torque emulator ``qsub``: Torque options and ``#PBS`` directives -> one ``sbatch`` call.

Behaviour from Torque's ``src/cmds/qsub_functions.c`` (github.com/adaptivecomputing/torque; each option's
source in README.md "Sources"):

- ``qsub [opts] [script]``; without a script the job is read from stdin and named ``STDIN``,
  otherwise it is named after the script's basename; ``#PBS`` directives are read from the
  script's leading comment block and the command line overrides them;
- ``-N -q -l nodes=N:ppn=M,walltime=HH:MM:SS,mem=.. -o -e -j oe|eo|n -d/-w -v -V -t -W
  depend=... -h -a -A -m -M -S -r -k -z``; a Torque job starts in ``$HOME`` unless -d;
- site options (Torque's qsub(1B), adaptivecomputing/torque ``doc/man1/qsub.1.in``; node
  properties and ``gpus=`` in the node spec: ``src/server/node_manager.c``; ``pmem``:
  ``doc/man7/pbs_resources_linux.7.in``), acted on where Slurm has the same thing:
  ``-A`` -> ``--account``, ``-n`` -> ``--exclusive``, ``nodes=..:gpus=G`` ->
  ``--gpus-per-node``, other node properties -> ``--constraint`` (joined by ``&``),
  ``pmem`` -> ``--mem-per-cpu``, ``-M``/``-m`` (b e a f) -> ``--mail-user``/``--mail-type``,
  ``-p P`` (P <= 0) -> ``--nice=-P`` (a positive priority is only recorded: Slurm lets only
  operators lower a niceness), ``-t R%N`` -> ``--array=R%N``; all are recorded and shown
  by ``qstat -f`` (``Account_Name``, ``Mail_Users``, ``Mail_Points``, ``Priority``,
  ``node_exclusive``, ``Resource_List.*``);
- default output files ``<name>.o<seq>`` / ``<name>.e<seq>`` (arrays ``-<index>``) in the
  submit directory;
- stdout on success: the full id ``N.server`` (arrays ``N[].server``) and a newline;
- errors on stderr ``qsub: submit error (...)`` or ``qsub: script file '..' cannot be
  loaded - No such file or directory``; exit status PBSE error & 0xFF, or 1;
- the job sees ``PBS_JOBID``, ``PBS_JOBNAME``, ``PBS_O_WORKDIR``, ``PBS_ARRAYID``,
  ``PBS_O_*``, ``PBS_ENVIRONMENT=PBS_BATCH``, ``PBS_NODEFILE``, ``PBS_NUM_NODES`` ...

The script is spooled (copied) at submit time, as Torque does with its ``.SC`` files, and
run by a generated launcher that sets the ``PBS_*`` variables.
"""

from __future__ import annotations

import math
import os
import re
import secrets
import shlex
import socket
import sys
import time
from typing import Any

import _torque_emu as emu

_WITH_ARG = set("aAbcCdDeFjklmMNopPqrSTtuvwW")
_FLAGS = set("fhInVXxz")  # -n: node-exclusive, a flag (torque src/cmds/qsub_functions.c GETOPT_ARGS)
_USAGE = ("usage: qsub [-a date_time] [-A account_string] [-d working directory] [-e path] [-h]\n"
          "            [-j oe|eo|n] [-l resource_list] [-m n|{abe}] [-M user_list] [-N jobname]\n"
          "            [-o path] [-q destination] [-r y|n] [-S path_list] [-t array_request]\n"
          "            [-v variable_list] [-V] [-W additional_attributes] [-z] [script]\n")


def _getopt(argv: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    opts: list[tuple[str, str]] = []
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "-":
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        j = 1
        while j < len(arg):
            letter = arg[j]
            if letter in _WITH_ARG:
                value = arg[j + 1:]
                if not value:
                    i += 1
                    if i >= len(argv):
                        raise ValueError(f"option requires an argument -- '{letter}'")  # glibc getopt wording
                    value = argv[i]
                opts.append((letter, value))
                break
            if letter in _FLAGS:
                opts.append((letter, ""))
                j += 1
                continue
            raise ValueError(f"invalid option -- '{letter}'")  # glibc getopt wording
        i += 1
    return opts, argv[i:]


def _directives(script: str) -> list[tuple[str, str]]:
    """``#PBS`` options of the leading comment block (stops at the first command)."""
    opts: list[tuple[str, str]] = []
    for line in script.splitlines():
        stripped = line.strip()
        if not stripped or (stripped.startswith("#") and not stripped.startswith("#PBS")):
            continue
        if not stripped.startswith("#PBS"):
            break
        try:
            words = shlex.split(stripped[4:], comments=True)
        except ValueError:
            continue
        found, _ = _getopt(words)
        opts.extend(found)
    return opts


def _seconds(text: str) -> int:
    parts = [float(p) for p in text.split(":")]
    total = 0.0
    for part in parts:
        total = total * 60 + part
    return math.ceil(total)


def _mem_mb(text: str) -> int:
    match = re.fullmatch(r"(\d+)(b|kb|mb|gb|tb|w|kw|mw|gw)?", text.lower())
    if not match:
        raise ValueError(text)
    scale = {"b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40,
             "w": 8, "kw": 8 << 10, "mw": 8 << 20, "gw": 8 << 30}[match.group(2) or "b"]
    return max(1, math.ceil(int(match.group(1)) * scale / (1 << 20)))


def _slurm_ids(depend: str) -> str:
    """``afterok:12.vm:13[].vm`` -> ``afterok:12:13`` (Slurm ids are the sequence numbers)."""
    out = []
    for clause in depend.split(","):
        kind, *ids = clause.split(":")
        nums = [re.match(r"\d+", i).group(0) for i in ids if re.match(r"\d+", i)]  # type: ignore[union-attr]
        out.append(":".join([kind.replace("array", ""), *nums]))
    return ",".join(out)


def _begin(text: str) -> str:
    """-a [[[[CC]YY]MM]DD]hhmm[.SS] -> ISO time for sbatch --begin."""
    secs = "00"
    if "." in text:
        text, secs = text.split(".", 1)
    now = time.localtime()
    fields = {"Y": now.tm_year, "m": now.tm_mon, "d": now.tm_mday}
    hh, mm = text[-4:-2], text[-2:]
    rest = text[:-4]
    if len(rest) >= 2:
        fields["d"] = int(rest[-2:])
    if len(rest) >= 4:
        fields["m"] = int(rest[-4:-2])
    if len(rest) >= 6:
        fields["Y"] = int(rest[:-4]) if len(rest) == 8 else 2000 + int(rest[-6:-4])
    return f"{fields['Y']:04d}-{fields['m']:02d}-{fields['d']:02d}T{hh}:{mm}:{secs}"


def _path(value: str, cwd: str) -> str:
    value = value.split(":", 1)[1] if re.match(r"^[\w.-]+:/", value) else value
    return value if value.startswith("/") else os.path.join(cwd, value)


def _launcher(opts: dict[str, Any], env_exports: list[tuple[str, str]], script_path: str,
              interpreter: str | None) -> str:
    q = shlex.quote
    server = emu.server_name()
    lines = [
        "#!/bin/bash",
        'if [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then',
        f'  export PBS_JOBID="${{SLURM_ARRAY_JOB_ID}}[${{SLURM_ARRAY_TASK_ID}}].{server}"',
        '  export PBS_ARRAYID="$SLURM_ARRAY_TASK_ID"',
        f'else export PBS_JOBID="${{SLURM_JOB_ID}}.{server}"; fi',
        'export PBS_NODEFILE="${TMPDIR:-/tmp}/torque-emu-nodes.$SLURM_JOB_ID"',
        'for __i in $(seq "${PBS_NP:-1}"); do hostname -s; done > "$PBS_NODEFILE"',
    ]
    lines[6:6] = [f"export {k}={q(v)}" for k, v in env_exports]
    run = [interpreter, script_path] if interpreter else [script_path]
    lines.append("exec " + shlex.join(run))
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    try:
        cli, rest = _getopt(argv)
    except ValueError as exc:
        sys.stderr.write(f"qsub: {exc}\n{_USAGE}")  # torque: src/cmds/qsub_functions.c usage
        return 2
    if any(letter == "I" for letter, _ in cli):
        return emu.fail("qsub", "interactive jobs are not supported by this emulator", 1)  # assumed: (README)
    if rest:
        try:
            with open(rest[0], encoding="utf-8", errors="surrogateescape") as handle:
                script = handle.read()
        except OSError as exc:
            return emu.fail("qsub", f"script file '{rest[0]}' cannot be loaded - "  # torque: src/cmds/qsub_functions.c
                            f"{exc.strerror or 'No such file or directory'}", 1)
        default_name = os.path.basename(rest[0])
    else:
        script, default_name = sys.stdin.read(), "STDIN"
    opts: dict[str, Any] = {"l": [], "v": []}
    for letter, value in [*_directives(script), *cli]:
        if letter in ("l", "v"):
            opts[letter].append(value)
        else:
            opts[letter] = value
    return _submit(opts, script, default_name, " ".join(shlex.quote(a) for a in argv))


def _submit(opts: dict[str, Any], script: str, default_name: str, submit_args: str) -> int:
    cwd = os.getcwd()
    user = emu.me()
    home = os.path.expanduser("~")
    name = opts.get("N", default_name)
    workdir = _path(opts.get("d") or opts.get("w") or home, cwd)
    resources: dict[str, str] = {}
    for item in ",".join(opts["l"]).split(","):
        if "=" in item:
            key, value = item.split("=", 1)
            resources[key.strip()] = value.strip()
    sbatch = ["--parsable", "--export=" + ("ALL" if "V" in opts else "NONE"), "-J", name,
              f"--chdir={workdir}"]
    nodes, ppn = 1, 1
    try:
        if "nodes" in resources:
            head, *props = resources["nodes"].split(":")
            nodes = int(head) if head.isdigit() else 1
            features = []
            for prop in props:
                if prop.startswith("ppn="):
                    ppn = int(prop[4:])
                elif prop.startswith("gpus="):
                    sbatch.append(f"--gpus-per-node={int(prop[5:])}")
                else:
                    features.append(prop)
            sbatch += ["-N", str(nodes), f"--ntasks-per-node={ppn}"]
            if features:
                sbatch.append("--constraint=" + "&".join(features))
        for key in ("ncpus", "procs"):
            if key in resources:
                sbatch.append(f"--ntasks={int(resources[key])}")
        if "walltime" in resources:
            sbatch.append(f"--time={math.ceil(_seconds(resources['walltime']) / 60)}")
        if "mem" in resources:
            sbatch.append(f"--mem={_mem_mb(resources['mem'])}M")
        if "pmem" in resources and "mem" not in resources:  # sbatch takes one of them
            sbatch.append(f"--mem-per-cpu={_mem_mb(resources['pmem'])}M")
        priority = int(opts.get("p", "0"))
        if not -1024 <= priority <= 1023:
            raise ValueError(opts["p"])
    except ValueError:
        # torque: src/include/pbs_error_db.h
        return emu.fail("qsub", "submit error (Illegal attribute or resource value  "
                        f"Resource_List {','.join(opts['l'])})", emu.exit_code(emu.PBSE_BADATVAL))
    queue = opts.get("q", "").split("@")[0]
    if queue:
        sbatch += ["-p", queue]
    array = opts.get("t")
    seq_pat = "%A-%a" if array else "%j"
    out_default = os.path.join(cwd, f"{name}.o{seq_pat}")
    err_default = os.path.join(cwd, f"{name}.e{seq_pat}")

    def target(letter: str, default: str) -> str:
        if letter not in opts:
            return default
        path = _path(opts[letter], cwd)
        if path.endswith("/") or os.path.isdir(path):
            return os.path.join(path, os.path.basename(default))
        return path.replace("%", "%%")

    out_path, err_path = target("o", out_default), target("e", err_default)
    join = opts.get("j", "n")
    if join == "oe":
        sbatch.append(f"--output={out_path}")
    elif join == "eo":
        sbatch.append(f"--output={err_path}")
    else:
        sbatch += [f"--output={out_path}", f"--error={err_path}"]
    if array:
        sbatch.append(f"--array={array}")
    depend = ""
    for clause in opts.get("W", "").split(","):  # -W depend=...,umask=...
        if clause.startswith("depend="):
            depend = clause[len("depend="):]
            sbatch.append(f"--dependency={_slurm_ids(depend)}")
    if "h" in opts:
        sbatch.append("--hold")
    if "a" in opts:
        sbatch.append(f"--begin={_begin(opts['a'])}")
    if opts.get("r") == "n":
        sbatch.append("--no-requeue")
    if "A" in opts:
        sbatch.append(f"--account={opts['A']}")
    if "n" in opts:
        sbatch.append("--exclusive")
    if priority < 0:
        sbatch.append(f"--nice={-priority}")
    if "M" in opts:
        sbatch.append(f"--mail-user={opts['M']}")
    mail_types = sorted({{"b": "BEGIN", "e": "END", "a": "FAIL", "f": "FAIL"}[c]
                         for c in opts.get("m", "") if c in "beaf"})
    if mail_types:
        sbatch.append("--mail-type=" + ",".join(mail_types))
    variables = {"PBS_O_QUEUE": queue or "batch", "PBS_O_HOME": home, "PBS_O_LOGNAME": user,
                 "PBS_O_PATH": os.environ.get("PATH", ""), "PBS_O_MAIL": f"/var/mail/{user}",
                 "PBS_O_SHELL": os.environ.get("SHELL", "/bin/bash"),
                 "PBS_O_LANG": os.environ.get("LANG", "C"), "PBS_O_WORKDIR": cwd,
                 "PBS_O_HOST": socket.getfqdn(), "PBS_O_SERVER": emu.server_name()}
    for item in ",".join(opts["v"]).split(","):
        if item:
            key, has, value = item.partition("=")
            variables[key] = value if has else os.environ.get(key, "")
    walltime = _seconds(resources["walltime"]) if "walltime" in resources else None
    exports = [*variables.items(), ("PBS_JOBNAME", name), ("PBS_ENVIRONMENT", "PBS_BATCH"),
               ("PBS_QUEUE", queue or "batch"), ("PBS_SERVER", emu.server_name()),
               ("PBS_NUM_NODES", str(nodes)), ("PBS_NUM_PPN", str(ppn)),
               ("PBS_NP", str(nodes * ppn)), ("PBS_TASKNUM", "1"), ("PBS_VNODENUM", "0")]
    if walltime:
        exports.append(("PBS_WALLTIME", str(walltime)))
    emu.ensure_spool()
    spool = os.path.join(emu.SPOOL, "scripts", user)
    os.makedirs(spool, mode=0o700, exist_ok=True)
    script_path = os.path.join(spool, f"{secrets.token_hex(8)}.SC")
    fd = os.open(script_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o700)
    with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as handle:
        handle.write(script)
    interpreter = opts.get("S") or (None if script.startswith("#!") else "/bin/bash")
    done = emu.slurm("sbatch", *sbatch, stdin=_launcher(opts, exports, script_path, interpreter))
    if done.returncode != 0:
        os.unlink(script_path)
        text = (done.stderr + done.stdout).strip()
        if "partition" in text.lower():
            # torque: pbs_error_db.h (PBSE_UNKQUE), req_stat.c
            return emu.fail("qsub", "submit error (Unknown queue MSG=cannot locate queue)",
                            emu.exit_code(emu.PBSE_UNKQUE))
        detail = text.splitlines()[-1] if text else "unknown error"
        # assumed: Slurm refusal relayed (README Assumed)
        return emu.fail("qsub", f"submit error ({detail.removeprefix('sbatch: error: ')})", 1)
    seq = int(done.stdout.strip().split(";")[0])
    unpct = {"%A-%a": f"{seq}-", "%j": str(seq), "%%": "%"}

    def shown(path: str) -> str:
        for pat, rep in unpct.items():
            path = path.replace(pat, rep)
        return path

    record = {
        "seq": seq, "name": name, "owner": f"{user}@{socket.getfqdn()}", "queue": queue,
        "group": user, "submit_args": submit_args, "output_path": shown(out_path),
        "error_path": shown(err_path), "join": join, "resources": resources,
        "nodect": nodes, "variables": ",".join(f"{k}={v}" for k, v in variables.items()),
        "workdir": workdir, "array": array, "hold": "h" in opts,
        "depend": depend, "ctime": int(time.time()), "final": {},
        "account": opts.get("A"), "mail_users": opts.get("M"), "mail_points": opts.get("m", "a"),
        "priority": priority, "node_exclusive": "n" in opts,
    }
    emu.save_record(record)
    if "z" not in opts:
        print(emu.JobId(seq, "" if array else None).full())  # torque: src/cmds/qsub_functions.c (prints the new id)
    return 0
