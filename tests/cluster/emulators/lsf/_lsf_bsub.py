"""LSF emulator: ``bsub`` (IBM bsub.1), submitting to the real Slurm underneath.

``bsub [options] < script`` parses the ``#BSUB`` lines at the top of the script (up to
the first non-comment line; command-line options win); ``bsub [options] cmd [args]``
runs the command through /bin/sh with no ``#BSUB`` parsing (``LSB_BSUB_PARSE_SCRIPT``
unset). Success: ``Job <N> is submitted to [default ]queue <q>.`` on stdout (stderr
with ``BSUB_STDERR``), exit 0. Errors: ``<context>: <message>. Job not submitted.`` on
stderr, exit 255. The job is submitted held, recorded, then released, so the wrapper
never runs before its record exists.

Site options (IBM Spectrum LSF 10.1 bsub reference,
https://www.ibm.com/docs/en/spectrum-lsf/10.1.0?topic=bsub-options), acted on where Slurm
has the same thing: ``-P`` -> ``--account`` (and ``bjobs -o proj_name``), ``-U`` ->
``--reservation``, ``-R "select[e]"`` -> ``--constraint`` (``&&``/``||`` as ``&``/``|``),
``-R "affinity[core(N)]"`` -> ``--cpus-per-task=N``, ``-gpu "num=N"`` ->
``--gpus-per-node=N``, ``-b [[[YYYY:]MM:]DD:]hh:mm`` -> ``--begin``, ``-u`` ->
``--mail-user``, ``-B``/``-N``/``-Ne`` -> ``--mail-type`` BEGIN/END/FAIL; ``-x`` and
``rusage[mem=..]`` as before.
"""

from __future__ import annotations

import math
import os
import re
import shlex
import sys
import time
from typing import cast

import _lsf_deps as deps
import _lsf_emu as emu

WITH_ARG = {"-J", "-q", "-n", "-W", "-We", "-o", "-oo", "-e", "-eo", "-cwd", "-R", "-M", "-w",
            "-env", "-P", "-G", "-u", "-L", "-m", "-app", "-sla", "-outdir", "-i", "-is", "-Jd",
            "-g", "-E", "-Ep", "-C", "-c", "-D", "-S", "-v", "-F", "-T", "-k", "-b", "-t", "-gpu",
            "-ext", "-sp", "-mig", "-Lp", "-U", "-f", "-a"}
FLAGS = {"-H", "-K", "-r", "-rn", "-x", "-N", "-B", "-I", "-Is", "-Ip", "-Ne", "-hl", "-Zs"}
USAGE = ("Usage: bsub [-h] [-V] [-H] [-x] [-r | -rn] [-N] [-B] [-K] [-I | -Ip | -Is]\n"
         "            [-q queue_name ...] [-m host_name ...] [-n min_proc[,max_proc]]\n"
         "            [-R res_req] [-J job_name] [-w 'dependency_expression'] [-W [hour:]minute]\n"
         "            [-M mem_limit] [-o out_file] [-e err_file] [-cwd dir] [-env \"...\"]\n"
         "            [command [argument ...] | < script]\n")
_ARRAY = re.compile(r"^(?P<name>.*)\[(?P<spec>[0-9][0-9,:\-]*)\](?:%(?P<limit>\d+))?$")
_UNITS = {"K": 1, "KB": 1, "M": 1024, "MB": 1024, "G": 1024**2, "GB": 1024**2, "T": 1024**3, "TB": 1024**3}


def fail(context: str, message: str) -> None:
    # assumed: the ". Job not submitted." suffix (README "Assumed")
    emu.die(f"{context}: {message}. Job not submitted." if context else f"{message}. Job not submitted.")


def parse_options(argv: list[str], *, stop_at_command: bool) -> tuple[dict[str, object], list[str]]:
    """Options -> {opt: value} (``-R`` values accumulate); returns the rest (the command)."""
    opts: dict[str, object] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in FLAGS:
            opts[arg] = True
        elif arg in WITH_ARG:
            if i + 1 >= len(argv):
                emu.die(f"{arg}: option requires an argument\n{USAGE}")
            value = argv[i + 1]
            if arg == "-R":
                opts["-R"] = [*cast("list[str]", opts.get("-R", [])), value]
            else:
                opts[arg] = value
            i += 1
        elif arg in ("-h", "-V"):
            emu.die(USAGE if arg == "-h" else "IBM Spectrum LSF 10.1.0.0 (remotejobs emulator)", 0)
        elif arg.startswith("-") and stop_at_command:
            emu.die(f"{arg}: Illegal option\n{USAGE}")
        elif stop_at_command:
            return opts, argv[i:]
        i += 1
    return opts, []


def bsub_directives(script: str) -> list[str]:
    """Arguments of the ``#BSUB`` lines at the top of ``script`` (README.md)."""
    argv: list[str] = []
    for line in script.splitlines():
        text = line.strip()
        if not text:
            continue
        if text.startswith("#BSUB"):
            try:
                argv += shlex.split(text[5:], comments=True)
            except ValueError:
                fail("#BSUB", "Bad argument")  # zjma/openlava lsbatch/lib/lsb.err.c (35)
            continue
        if text.startswith("#"):
            continue
        break
    return argv


def array_indices(spec: str) -> tuple[list[int], int]:
    """``1-10:2,15`` -> indices, step (of the first range)."""
    indices: list[int] = []
    step0 = 1
    for k, part in enumerate(spec.split(",")):
        match = re.fullmatch(r"(\d+)(?:-(\d+)(?::(\d+))?)?", part)
        if not match:
            raise ValueError(part)
        first = int(match.group(1))
        last = int(match.group(2) or first)
        step = int(match.group(3) or 1)
        if first < 1 or last < first or step < 1:
            raise ValueError(part)
        indices += range(first, last + 1, step)
        if k == 0:
            step0 = step
    return sorted(set(indices)), step0


def runlimit_minutes(text: str) -> int:
    match = re.fullmatch(r"(?:(\d+):)?(\d+)(?:/\S+)?", text.strip())
    if not match:
        fail(text, "Bad time specification")  # zjma/openlava lsbatch/lib/lsb.err.c (36)
    assert match is not None
    return int(match.group(1) or 0) * 60 + int(match.group(2))


def memlimit_kb(text: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]B?)?!?", text.strip(), re.IGNORECASE)
    if not match:
        fail(text, "Bad argument")  # zjma/openlava lsbatch/lib/lsb.err.c (35)
    assert match is not None
    unit = (match.group(2) or emu.unit_for_limits()).upper()
    return max(1, int(float(match.group(1)) * _UNITS[unit]))


def env_spec(text: str) -> tuple[bool, list[str], dict[str, str], list[str]]:
    """``-env`` -> (all, names to keep, values to set, names to drop) (IBM bsub.1)."""
    items = [i.strip() for i in re.findall(r"(?:[^,']|'[^']*')+", text) if i.strip()]
    keep_all, keep, values, drop = False, [], {}, []
    for item in items:
        if item.lower() == "all":
            keep_all = True
        elif item.lower() == "none":
            keep_all = False
        elif item.startswith("~"):
            drop.append(item[1:])
        elif "=" in item:
            key, _, value = item.partition("=")
            values[key.strip()] = value.strip().strip("'")
        else:
            keep.append(item)
    return keep_all, keep, values, drop


def _sbatch_error(stderr: str) -> None:
    text = stderr.strip().splitlines()[-1] if stderr.strip() else "Unknown error"
    text = re.sub(r"^sbatch: error: (Batch job submission failed: )?", "", text)
    if "node configuration" in text or "CPU count" in text:
        fail("", "Too many processors requested")  # zjma/openlava lsbatch/lib/lsb.err.c (24)
    if "Memory" in text or "memory" in text:
        fail("MEMLIMIT", "Cannot exceed queue's hard limit(s)")  # zjma/openlava lsbatch/lib/lsb.err.c (39)
    fail("", text.rstrip("."))  # assumed: Slurm refusal relayed (README Assumed)


def begin_time(text: str) -> str:
    """``-b [[year:][month:]day:]hour:minute`` -> an ISO time for sbatch --begin (parts left
    out are today's; LSF's "next such time" rule is not emulated)."""
    parts = [int(p) for p in text.split(":")]
    if not 2 <= len(parts) <= 5:
        raise ValueError(text)
    now = time.localtime()
    year, month, day = now.tm_year, now.tm_mon, now.tm_mday
    if len(parts) >= 3:
        day = parts[-3]
    if len(parts) >= 4:
        month = parts[-4]
    if len(parts) == 5:
        year = parts[0]
    return f"{year:04d}-{month:02d}-{day:02d}T{parts[-2]:02d}:{parts[-1]:02d}:00"


def _site_options(opts: dict[str, object], resreq: str) -> list[str]:
    """sbatch options for bsub's site options (module docstring)."""
    out: list[str] = []
    if opts.get("-P"):
        out.append(f"--account={opts['-P']}")
    if opts.get("-U"):
        out.append(f"--reservation={opts['-U']}")
    select = re.search(r"select\[([^\]]*)\]", resreq)
    if select:
        out.append("--constraint=" + select.group(1).replace("&&", "&").replace("||", "|").replace(" ", ""))
    cores = re.search(r"affinity\[core\((\d+)\)", resreq)
    if cores:
        out.append(f"--cpus-per-task={cores.group(1)}")
    gpus = re.search(r"(?:^|:)num=(\d+)", str(opts.get("-gpu", "")))
    if gpus:
        out.append(f"--gpus-per-node={gpus.group(1)}")
    if opts.get("-b"):
        try:
            out.append(f"--begin={begin_time(str(opts['-b']))}")
        except ValueError:
            fail(str(opts["-b"]), "Bad time specification")  # [assumed wording]
    if opts.get("-u"):
        out.append(f"--mail-user={opts['-u']}")
    types = [t for flag, t in (("-B", "BEGIN"), ("-N", "END"), ("-Ne", "FAIL")) if opts.get(flag)]
    if types:
        out.append("--mail-type=" + ",".join(types))
    return out


def main(argv: list[str]) -> int:
    me = emu.caller()
    cli, command = parse_options(argv, stop_at_command=True)
    if command:
        script = "#!/bin/sh\n" + " ".join(command) + "\n"
        display = " ".join(command)
        opts = cli
    else:
        script = sys.stdin.read()
        if not script.strip():
            fail("", "Empty job")  # zjma/openlava lsbatch/lib/lsb.err.c (40)
        display = script.rstrip("\n").replace("\n", ";")
        opts, _ = parse_options(bsub_directives(script), stop_at_command=False)
        opts.update(cli)
    queue_given = "-q" in opts
    queue = str(opts.get("-q") or emu.DEFAULT_QUEUE).split()[0]
    if queue not in emu.QUEUES:
        fail(queue, "No such queue")  # assumed: wording (README)
    name = str(opts.get("-J") or display)
    indices: list[int] = []
    step, limit = 1, None
    match = _ARRAY.match(name) if "-J" in opts else None
    if match:
        try:
            indices, step = array_indices(match.group("spec"))
        except ValueError:
            fail(name, "Bad job name")  # zjma/openlava lsbatch/lib/lsb.err.c (42)
        if len(indices) > emu.max_array_size():
            fail(name, "Job array index too large")  # zjma/openlava lsbatch/lib/lsb.err.c (98)
        name, limit = match.group("name"), match.group("limit")
        if not name:
            fail(str(opts["-J"]), "Bad job name")  # zjma/openlava lsbatch/lib/lsb.err.c (42)
    elif "-J" in opts and ("[" in name or "]" in name):
        fail(name, "Bad job name")  # zjma/openlava lsbatch/lib/lsb.err.c (42)
    sbatch = ["sbatch", "--parsable", "-H", "-p", emu.QUEUES[queue], "-D", "/tmp",
              "--job-name", name[:200] or "lsf"]
    slots = 1
    if "-n" in opts:
        try:
            slots = max(int(x) for x in str(opts["-n"]).split(","))
        except ValueError:
            fail(str(opts["-n"]), "Bad argument")
        sbatch.append(f"--ntasks={slots}")
    resreq = " ".join(opts.get("-R", []))  # type: ignore[arg-type]
    ptile = re.search(r"span\[[^\]]*ptile=(\d+)", resreq)
    if ptile:
        sbatch.append(f"--ntasks-per-node={ptile.group(1)}")
    if re.search(r"span\[[^\]]*hosts=1", resreq):
        sbatch.append("--nodes=1")
    runlimit = runlimit_minutes(str(opts["-W"])) if "-W" in opts else None
    if runlimit is not None:
        sbatch.append(f"--time={max(1, runlimit)}")
    memlimit = memlimit_kb(str(opts["-M"])) if "-M" in opts else None
    rusage = re.search(r"rusage\[[^\]]*mem=(\d+(?:\.\d+)?)", resreq)
    if memlimit is not None:
        sbatch.append(f"--mem={max(1, math.ceil(memlimit / 1024))}")
    elif rusage:
        per_slot = memlimit_kb(rusage.group(1))
        sbatch.append(f"--mem-per-cpu={max(1, math.ceil(per_slot / 1024))}")
    if opts.get("-x"):
        sbatch.append("--exclusive")
    sbatch += _site_options(opts, resreq)
    if indices:
        sbatch.append("--array=" + ",".join(map(str, indices)) + (f"%{limit}" if limit else ""))
    never = False
    if "-w" in opts:
        try:
            dependency, never = deps.translate(str(opts["-w"]), me)
        except deps.DepError as exc:
            emu.die(str(exc))
        if dependency:
            sbatch.append(f"--dependency={dependency}")
    directory = emu.user_dir(me, create=True)
    sbatch += ["-o", os.path.join(directory, "slurm-%A_%a.out"), "--export=ALL"]
    runner = shlex.join([os.path.join(emu.HERE, "_lsf_run.py"), directory])
    wrapper = f"#!/bin/sh\nexec /usr/bin/env python3 {runner}\n"
    proc = emu.slurm(sbatch, stdin=wrapper)
    if proc.returncode != 0:
        _sbatch_error(proc.stderr)
    job_id = int(proc.stdout.strip().split(";")[0])
    output, error = opts.get("-oo") or opts.get("-o"), opts.get("-eo") or opts.get("-e")
    keep_all, keep, values, drop = env_spec(str(opts.get("-env", "all")))
    record = {
        "id": job_id, "user": me, "name": name, "indices": indices, "step": step,
        "slot_limit": int(limit) if limit else None, "queue": queue, "queue_given": queue_given,
        "command": display, "submit_time": time.time(), "from_host": emu.hostname(),
        "cwd": os.getcwd(), "exec_cwd": opts.get("-cwd"), "output": output,
        "output_overwrite": "-oo" in opts, "error": error, "error_overwrite": "-eo" in opts,
        "slots": slots, "runlimit_min": runlimit, "memlimit_kb": memlimit, "resreq": resreq,
        "dependency": opts.get("-w"), "project": opts.get("-P"), "hold": bool(opts.get("-H")),
        "reservation": opts.get("-U"), "begin": opts.get("-b"), "mail_user": opts.get("-u"),
        "no_report": bool(opts.get("-N")), "never": never,
        "env_all": keep_all, "env_keep": keep, "env_drop": drop,
    }
    emu.write_atomic(os.path.join(directory, f"{job_id}.script"), script, mode=0o700)
    emu.write_atomic(os.path.join(directory, f"{job_id}.env"), __import__("json").dumps(values), mode=0o600)
    emu.write_json(os.path.join(directory, f"{job_id}.json"), record)
    if not opts.get("-H") and not never:
        emu.slurm(["scontrol", "release", str(job_id)])
    where = f"queue <{queue}>" if queue_given else f"default queue <{queue}>"
    stream = sys.stderr if os.environ.get("BSUB_STDERR") else sys.stdout
    stream.write(f"Job <{job_id}> is submitted to {where}.\n")  # nextflow LsfExecutorTest.groovy, IBM bsub page
    stream.flush()
    return wait_for(job_id, me) if opts.get("-K") else 0


def wait_for(job_id: int, me: str) -> int:
    """``-K``: wait for the job (IBM bsub.1); exit with its exit code."""
    sys.stdout.write("<<Waiting for dispatch ...>>\n")
    sys.stdout.flush()
    announced = False
    while True:
        job = emu.find_job(job_id)
        found = emu.views([job], me, include_cleaned=True) if job else []
        if found and not announced and found[0].stat not in ("PEND", "PSUSP"):
            sys.stdout.write(f"<<Starting on {found[0].host or emu.hostname()}>>\n")
            sys.stdout.flush()
            announced = True
        if found and all(v.final for v in found):
            sys.stdout.write("<<Job is finished>>\n")
            codes = [v.exit_code or 0 for v in found]
            if any(v.stat == "EXIT" and v.start is None for v in found):
                return 126
            return max(codes)
        time.sleep(1)
