"""PBS emulator ``qsub``: PBS Pro options and ``#PBS`` directives -> one ``sbatch`` call.

Behaviour (openpbs:src/cmds/qsub.c, qsub_sup.c, doc/man1/qsub.1B):

- ``qsub [options] [script]``; without a script the job is read from stdin and named
  ``STDIN``, otherwise after the script's base name; ``#PBS`` directives of the leading
  comment block are read, the command line wins (qsub.c ``if_cmd_line``);
- options (``GETOPT_ARGS`` ``a:A:c:C:e:fhj:J:k:l:m:M:N:o:p:q:r:R:S:u:v:VW:zP:``): ``-N -q
  -l select=N:ncpus=M[:mpiprocs=K][:mem=..],walltime=..,place=.. -o -e -j oe|eo|n
  -J X-Y[:Z] -W depend=type:id[:id] -h -v -V -z``; others are accepted and ignored;
- site options (doc/man1/qsub.1B, doc/man1/pbs_resources.7B, doc/man1/pbs_rsub.1B), acted
  on where Slurm has the same thing: ``-A`` -> ``--account``, ``-a`` -> ``--begin``, ``-p
  P`` (P <= 0) -> ``--nice=-P`` (a positive priority is only recorded: Slurm lets only
  operators lower a niceness), ``-M``/``-m`` (a b e) -> ``--mail-user``/``--mail-type``,
  ``-J R%N`` -> ``--array=R%N`` (``max_run_subjobs``), chunk ``mpiprocs``/``ompthreads``
  -> ``--ntasks-per-node``/``--cpus-per-task``, ``ngpus`` -> ``--gpus-per-node``, a
  boolean host resource ``name=True`` -> ``--constraint`` (joined by ``&``), ``place=..excl``
  -> ``--exclusive``, a reservation queue ``R<n>``/``S<n>`` -> ``--reservation``; all are
  recorded and shown by ``qstat -f`` (``Account_Name``, ``Execution_Time``, ``Priority``,
  ``Mail_Users``, ``Mail_Points``, ``max_run_subjobs``, ``Resource_List.*``);
- success: the id and a newline on stdout (``N.server``, ``N[].server`` with ``-J``);
- errors: ``qsub: <message>`` on stderr (``qsub: Unknown queue``, exit 170 = PBSE_UNKQUE
  & 0xFF); an option error prints the usage and exits 2 (``print_usage``); a bad ``-J``
  ``qsub: illegal -J value`` [assumed exit 2, as for the other option errors];  # openpbs:src/cmds/qsub.c
- the job runs in the user's home directory (PBS_O_WORKDIR holds the submit directory)
  and sees PBS_JOBID, PBS_JOBNAME, PBS_QUEUE, PBS_ENVIRONMENT=PBS_BATCH, PBS_NODEFILE,
  PBS_O_* and, in a subjob, PBS_ARRAY_INDEX / PBS_ARRAY_ID
  (openpbs:src/resmom/start_exec.c ``variables_else``);
- default output files ``<name>.o<N>`` / ``<name>.e<N>`` in the submit directory
  [assumed for subjobs: ``<name>.o<N>.<index>``]; output is written directly to the final
  path [assumed: a real server copies it there when the job ends].
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

import _pbs_emu as emu

_WITH_ARG = set("aAcCeEjJklmMNopqrRSuvWP")
_FLAGS = set("fhVz")
_USAGE = (
    "usage: qsub [-a date_time] [-A account_string] [-c interval]\n"
    "\t[-C directive_prefix] [-e path] [-f ] [-h ] [-I [-X]] [-j oe|eo] [-J X-Y[:Z]]\n"
    "\t[-k keep] [-l resource_list] [-m mail_options] [-M user_list]\n"
    "\t[-N jobname] [-o path] [-p priority] [-P project] [-q queue] [-r y|n]\n"
    "\t[-R o|e|oe] [-S path] [-u user_list] [-W otherattributes=value...]\n"
    "\t[-v variable_list] [-V ] [-z] [script | -- command [arg1 ...]]\n"
    "       qsub --version\n"
)


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
    opts: list[tuple[str, str]] = []
    for line in script.splitlines():
        stripped = line.strip()
        if not stripped or (stripped.startswith("#") and not stripped.startswith("#PBS")):
            continue
        if not stripped.startswith("#PBS"):
            break
        try:
            found, _ = _getopt(shlex.split(stripped[4:], comments=True))
        except ValueError:
            continue
        opts.extend(found)
    return opts


def _seconds(text: str) -> int:
    total = 0.0
    for part in text.split(":"):
        total = total * 60 + float(part)
    return math.ceil(total)


def _mem_mb(text: str) -> int:
    match = re.fullmatch(r"(\d+)(b|kb|mb|gb|tb|w|kw|mw|gw)?", text.lower())
    if not match:
        raise ValueError(text)
    scale = {"b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40,
             "w": 8, "kw": 8 << 10, "mw": 8 << 20, "gw": 8 << 30}[match.group(2) or "b"]
    return max(1, math.ceil(int(match.group(1)) * scale / (1 << 20)))


def _resources(values: list[str]) -> dict[str, Any]:
    """``-l`` lists -> Resource_List as the server fills it in (select, ncpus, nodect,
    place, walltime, mem), as in buildtest's capture (``select 1:ncpus=1``, ``ncpus 1``,
    ``nodect 1``, ``place scatter``)."""
    given: dict[str, str] = {}
    for item in ",".join(values).split(","):
        if "=" in item:
            name, value = item.split("=", 1)
            given[name.strip()] = value.strip()
    chunks, ncpus, mem = 1, 1, 0
    mpiprocs = ompthreads = ngpus = 0
    features: list[str] = []
    if "select" in given:
        head, *parts = given["select"].split(":")
        chunks = int(head) if head.isdigit() else 1
        for part in parts:
            name, _, value = part.partition("=")
            if name == "ncpus":
                ncpus = int(value)
            elif name == "mem":
                mem = _mem_mb(value)
            elif name == "mpiprocs":
                mpiprocs = int(value)
            elif name == "ompthreads":
                ompthreads = int(value)
            elif name == "ngpus":
                ngpus = int(value)
            elif value == "True":
                features.append(name)
    else:
        ncpus = int(given.get("ncpus", 1))
    out: dict[str, Any] = {}
    if mem:
        out["mem"] = f"{mem * chunks}mb"
    out.update({"ncpus": ncpus * chunks, "nodect": chunks,
                "place": given.get("place", "pack" if chunks == 1 else "scatter"),
                "select": given.get("select", f"1:ncpus={ncpus}")})
    if "walltime" in given:
        total = _seconds(given["walltime"])
        out["walltime"] = f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
    out["_chunks"], out["_ncpus"], out["_mem"] = chunks, ncpus, mem
    out["_mpiprocs"], out["_ompthreads"], out["_ngpus"], out["_features"] = mpiprocs, ompthreads, ngpus, features
    return out


def _begin(text: str) -> str:
    """``-a [[[[CC]YY]MM]DD]hhmm[.SS]`` (qsub.1B) -> an ISO time for sbatch --begin; the
    parts left out are today's (the "next one" rule of qsub.1B is not emulated)."""
    secs = "00"
    if "." in text:
        text, secs = text.split(".", 1)
    now = time.localtime()
    year, month, day = now.tm_year, now.tm_mon, now.tm_mday
    rest = text[:-4]
    if len(rest) >= 2:
        day = int(rest[-2:])
    if len(rest) >= 4:
        month = int(rest[-4:-2])
    if len(rest) >= 6:
        year = int(rest[:-4]) if len(rest) == 8 else 2000 + int(rest[-6:-4])
    return f"{year:04d}-{month:02d}-{day:02d}T{text[-4:-2]}:{text[-2:]}:{secs}"


def _slurm_depend(depend: str) -> str:
    """``afterok:12.srv:13[].srv`` -> ``afterok:12:13`` (Slurm ids are the sequence numbers)."""
    out = []
    for clause in depend.split(","):
        kind, *ids = clause.split(":")
        nums = [m.group(0) for m in (re.match(r"\d+", i) for i in ids) if m]
        out.append(":".join([kind, *nums]))
    return ",".join(out)


def _launcher(exports: list[tuple[str, str]], script_path: str, interpreter: str | None) -> str:
    server = emu.server_name()
    lines = [
        "#!/bin/bash",
        'if [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then',
        f'  export PBS_JOBID="${{SLURM_ARRAY_JOB_ID}}[${{SLURM_ARRAY_TASK_ID}}].{server}"',
        f'  export PBS_ARRAY_INDEX="$SLURM_ARRAY_TASK_ID" PBS_ARRAY_ID="${{SLURM_ARRAY_JOB_ID}}[].{server}"',
        f'else export PBS_JOBID="${{SLURM_JOB_ID}}.{server}"; fi',
        *(f"export {k}={shlex.quote(v)}" for k, v in exports),
        'export PBS_NODEFILE="${TMPDIR:-/tmp}/pbs-emu-nodes.$SLURM_JOB_ID"',
        'hostname -s > "$PBS_NODEFILE"',
        "exec " + shlex.join([interpreter, script_path] if interpreter else [script_path]),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    try:
        cli, rest = _getopt(argv)
    except ValueError as exc:
        sys.stderr.write(f"qsub: {exc}\n{_USAGE}")  # openpbs:src/cmds/qsub.c usage
        return 2
    if rest:
        try:
            with open(rest[0], encoding="utf-8", errors="surrogateescape") as handle:
                script = handle.read()
        except OSError as exc:
            # qsub.c: perror("qsub: script file:"), exit 1
            return emu.fail("qsub", f"script file:: {exc.strerror or 'No such file or directory'}", 1)
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
    cwd, user, home = os.getcwd(), emu.me(), os.path.expanduser("~")
    name = opts.get("N", default_name)
    array, limit = opts.get("J"), ""
    if array is not None:
        match = re.fullmatch(r"(\d+)-(\d+)(?::(\d+))?(?:%([1-9]\d*))?", array)
        if not match or int(match.group(1)) >= int(match.group(2)):
            sys.stderr.write(f"qsub: illegal -J value\n{_USAGE}")  # openpbs:src/cmds/qsub.c
            return 2
        array, _, limit = array.partition("%")
    try:
        resources = _resources(opts["l"])
    except ValueError:
        sys.stderr.write(f"qsub: illegal -l value\n{_USAGE}")  # openpbs:src/cmds/qsub.c
        return 2
    queue = opts.get("q", "").split("@")[0] or emu.DEFAULT_QUEUE
    chunks, ncpus, mem = resources.pop("_chunks"), resources.pop("_ncpus"), resources.pop("_mem")
    mpiprocs, ompthreads = resources.pop("_mpiprocs"), resources.pop("_ompthreads")
    ngpus, features = resources.pop("_ngpus"), resources.pop("_features")
    tasks = mpiprocs or ncpus
    sbatch = ["--parsable", "--export=" + ("ALL" if "V" in opts else "NONE"), "-J", name,
              f"--chdir={home}", "-N", str(chunks), f"--ntasks-per-node={tasks}"]
    if ncpus > tasks:
        sbatch.append(f"--cpus-per-task={ompthreads or ncpus // tasks}")
    if ngpus:
        sbatch.append(f"--gpus-per-node={ngpus}")
    if features:
        sbatch.append("--constraint=" + "&".join(features))
    if "excl" in str(resources.get("place", "")).split(":"):
        sbatch.append("--exclusive")
    try:
        priority = int(opts.get("p", "0"))
    except ValueError:
        priority = 2048
    if not -1024 <= priority <= 1023:  # qsub.1B "-p": range [-1024, +1023]
        sys.stderr.write(f"qsub: illegal -p value\n{_USAGE}")  # [assumed wording]
        return 2
    if priority < 0:
        sbatch.append(f"--nice={-priority}")
    if "A" in opts:
        sbatch.append(f"--account={opts['A']}")
    if "a" in opts and not re.fullmatch(r"(\d\d){2,6}(\.\d\d)?", opts["a"]):
        sys.stderr.write(f"qsub: illegal -a value\n{_USAGE}")  # [assumed wording]
        return 2
    if "a" in opts:
        sbatch.append(f"--begin={_begin(opts['a'])}")
    if "M" in opts:
        sbatch.append(f"--mail-user={opts['M']}")
    mail_types = sorted({{"b": "BEGIN", "e": "END", "a": "FAIL"}[c] for c in opts.get("m", "") if c in "abe"})
    if mail_types:
        sbatch.append("--mail-type=" + ",".join(mail_types))
    if re.fullmatch(r"[RS]\d+", queue):  # a reservation's queue (pbs_rsub.1B OUTPUT)
        sbatch.append(f"--reservation={queue}")
    elif queue != emu.DEFAULT_QUEUE:
        sbatch += ["-p", queue]
    if "walltime" in resources:
        sbatch.append(f"--time={math.ceil(_seconds(resources['walltime']) / 60)}")
    if mem:
        sbatch.append(f"--mem={mem}M")
    suffix = "%A.%a" if array else "%j"

    def path(letter: str, kind: str) -> str:
        if letter not in opts:
            return os.path.join(cwd, f"{name}.{kind}{suffix}")
        value = opts[letter].split(":", 1)[1] if re.match(r"^[\w.-]+:/", opts[letter]) else opts[letter]
        return (value if value.startswith("/") else os.path.join(cwd, value)).replace("%", "%%")

    out_path, err_path = path("o", "o"), path("e", "e")
    join = opts.get("j", "n")
    sbatch += [f"--output={err_path if join == 'eo' else out_path}"]
    if join not in ("oe", "eo"):
        sbatch.append(f"--error={err_path}")
    if array:
        sbatch.append(f"--array={array}" + (f"%{limit}" if limit else ""))
    depend = next((c[len("depend="):] for c in opts.get("W", "").split(",") if c.startswith("depend=")), "")
    if depend:
        sbatch.append(f"--dependency={_slurm_depend(depend)}")
    if "h" in opts:
        sbatch.append("--hold")
    variables = {"PBS_O_HOME": home, "PBS_O_LOGNAME": user, "PBS_O_PATH": os.environ.get("PATH", ""),
                 "PBS_O_MAIL": f"/var/mail/{user}", "PBS_O_SHELL": os.environ.get("SHELL", "/bin/bash"),
                 "PBS_O_WORKDIR": cwd, "PBS_O_SYSTEM": "Linux", "PBS_O_QUEUE": queue,
                 "PBS_O_HOST": socket.getfqdn()}
    for item in ",".join(opts["v"]).split(","):
        if item:
            key, has, value = item.partition("=")
            variables[key] = value if has else os.environ.get(key, "")
    exports = [*variables.items(), ("PBS_JOBNAME", name), ("PBS_QUEUE", queue),
               ("PBS_ENVIRONMENT", "PBS_BATCH"), ("HOME", home), ("USER", user), ("LOGNAME", user)]
    emu.ensure_spool()
    spool = os.path.join(emu.SPOOL, "scripts", user)
    os.makedirs(spool, mode=0o700, exist_ok=True)
    script_path = os.path.join(spool, f"{secrets.token_hex(8)}.SC")
    fd = os.open(script_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o700)
    with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as handle:
        handle.write(script)
    interpreter = opts.get("S") or (None if script.startswith("#!") else "/bin/bash")
    done = emu.slurm("sbatch", *sbatch, stdin=_launcher(exports, script_path, interpreter))
    if done.returncode != 0:
        os.unlink(script_path)
        text = (done.stderr + done.stdout).strip()
        if "partition" in text.lower():
            return emu.fail("qsub", "Unknown queue", emu.exit_code(emu.PBSE_UNKQUE))
        if "dependency" in text.lower():  # assumed: the server's answer to a bad depend id
            return emu.fail("qsub", f"Unknown Job Id {depend}", emu.exit_code(emu.PBSE_UNKJOBID))
        detail = text.splitlines()[-1] if text else "unknown error"
        return emu.fail("qsub", detail.removeprefix("sbatch: error: "), 1)  # assumed: wording (README)
    seq = int(done.stdout.strip().split(";")[0])

    def shown(path: str) -> str:
        return path.replace("%A.%a", f"{seq}.^array_index^").replace("%j", str(seq)).replace("%%", "%")

    record = {
        "seq": seq, "name": name, "owner": f"{user}@{socket.getfqdn()}", "queue": queue,
        "submit_args": submit_args, "output_path": shown(err_path if join == "eo" else out_path),
        "error_path": shown(out_path if join == "oe" else err_path), "join": join,
        "resources": resources, "ncpus": ncpus * chunks, "home": home,
        "variables": ",".join(f"{k}={v.replace(',', chr(92) + ',')}" for k, v in variables.items()),
        "array": array, "hold": "h" in opts, "depend": depend, "ctime": int(time.time()), "final": {},
        "account": opts.get("A"), "priority": priority,
        "execution_time": int(time.mktime(time.strptime(_begin(opts["a"]), "%Y-%m-%dT%H:%M:%S")))
        if "a" in opts else None,
        "mail_users": opts.get("M"), "mail_points": opts.get("m", "a"),
        "max_run_subjobs": int(limit) if array and limit else None,
    }
    emu.save_record(record)
    if "z" not in opts:
        print(emu.JobId(seq, "" if array else None).full())  # openpbs:src/cmds/qsub.c (prints the new id)
    return 0
