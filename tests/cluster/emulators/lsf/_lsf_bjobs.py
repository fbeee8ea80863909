"""LSF emulator: ``bjobs`` (IBM bjobs.1).

Selection: without ids, the caller's unfinished jobs (``-a`` adds those finished within
CLEAN_PERIOD, ``-d`` only those, ``-p``/``-r``/``-s`` pending/running/suspended; other
users' only with ``-u user|all``); named ids (``123``, ``"123[4]"``) are shown whatever
their state or owner. Output: the default table (OpenLava row format), ``-W``, ``-o`` fields
with or without ``delimiter='c'``, ``-noheader``, ``-json``. Not found: stderr
``Job <N> is not found``, exit 255, found rows still printed; nothing to show: the
"No ... job found" messages on stderr, exit 255 [src OpenLava; real LSF may exit 0].
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import sys
import time

import _lsf_emu as emu
import _lsf_fields as fields

USAGE = ("Usage: bjobs [-h] [-V] [-w] [-W] [-a] [-d] [-p] [-r] [-s] [-noheader]\n"
         "             [-o \"field_name[:[-]output_width] ... [delimiter='character']\"] [-json]\n"
         "             [-q queue_name] [-u user_name | -u all] [-J job_name] [jobId | \"jobId[index]\" ...]\n")
ORDER = {"RUN": 0, "PROV": 0, "USUSP": 0, "SSUSP": 0, "UNKWN": 0, "PEND": 1, "PSUSP": 1, "WAIT": 1,
         "DONE": 2, "EXIT": 2, "ZOMBI": 2}
EMPTY = {"": "No unfinished job found", "-a": "No job found", "-d": "No DONE/EXIT job found",
         "-p": "No pending job found", "-r": "No running job found", "-s": "No suspended job found"}
SELECT = {"": ("PEND", "PSUSP", "PROV", "RUN", "USUSP", "SSUSP", "UNKWN", "WAIT"),
          "-d": emu.FINAL, "-p": ("PEND", "PSUSP"), "-r": ("RUN",), "-s": ("USUSP", "SSUSP", "PSUSP")}


def parse_format(spec: str) -> tuple[list[tuple[str, int | None, bool]], str | None]:
    """``"jobid stat:5 name:-20 delimiter='|'"`` -> [(field, width, right)], delimiter."""
    delimiter: str | None = None
    match = re.search(r"""delimiter=(['"])(.*?)\1""", spec)
    if match:
        delimiter = match.group(2)
        spec = spec[: match.start()] + spec[match.end():]
    columns: list[tuple[str, int | None, bool]] = []
    for item in spec.replace(",", " ").split():
        name, _, rest = item.partition(":")
        field = fields.canonical(name)
        if name.lower() == "all":
            columns += [(f, None, False) for f in fields.FIELDS]
            continue
        if field is None:
            emu.die(f"{name}: Illegal field name.")  # assumed: wording
        right = rest.startswith("-")
        size = rest.lstrip("-").split(":")[0]
        columns.append((field, int(size) if size.isdigit() else None, right))
    if not columns:
        emu.die("-o: Output format is empty.")
    return columns, delimiter


def _json_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False).replace("/", "\\/")  # IBM bjobs.1: / as \/


def print_json(columns: list[tuple[str, int | None, bool]], items: list[emu.View | str]) -> None:
    """IBM bjobs.1 ``-json``: pretty-printed, 2-space indents, no space after ':'."""
    if not items:
        sys.stdout.write('{"COMMAND":"bjobs","JOBS":0,"RECORDS":[]}\n')
        return
    records = []
    for item in items:
        if isinstance(item, str):
            pairs = [("ERROR", item)]
        else:
            pairs = [(fields.header(f), fields.value(f, item)) for f, _, _ in columns]
        body = ",\n".join(f"      {_json_text(k)}:{_json_text(v)}" for k, v in pairs)
        records.append("    {\n" + body + "\n    }")
    sys.stdout.write('{\n  "COMMAND":"bjobs",\n  "JOBS":%d,\n  "RECORDS":[\n%s\n  ]\n}\n'  # noqa: UP031
                     % (len(items), ",\n".join(records)))


def print_columns(columns: list[tuple[str, int | None, bool]], delimiter: str | None,
                  found: list[emu.View], noheader: bool) -> None:
    rows = []
    if not noheader:
        rows.append([fields.header(f) for f, _, _ in columns])
    rows += [[fields.value(f, v) or "-" for f, _, _ in columns] for v in found]
    for row in rows:
        if delimiter is not None:
            sys.stdout.write(delimiter.join(row) + "\n")
            continue
        cells = []
        for (field, size, right), text in zip(columns, row, strict=True):
            w = size or fields.width(field)
            cells.append(text.rjust(w) if right else text.ljust(w))
        sys.stdout.write(" ".join(cells).rstrip() + "\n")


def _stamp(epoch: float | None) -> str:
    """``MM/DD-HH:MM:SS`` as in bjobs -W (IBM bjobs.1 wide flags)."""
    return time.strftime("%m/%d-%H:%M:%S", time.localtime(epoch)) if epoch else "-"


def print_table(found: list[emu.View], wide: bool, extra: bool, noheader: bool) -> None:
    """Default view: ``%-7d %-7s %-5.5s %-10s %-11s %-11s %-10s %s`` (IBM bjobs.1)."""
    if not noheader:
        head = "JOBID   USER    STAT  QUEUE      FROM_HOST   EXEC_HOST   JOB_NAME   SUBMIT_TIME"
        sys.stdout.write(head + ("  PROJ_NAME CPU_USED MEM SWAP PIDS START_TIME FINISH_TIME" if extra else "") + "\n")
    for v in found:
        name = fields.value("job_name", v)
        if not wide and len(name) > 10:
            name = "*" + name[-9:]
        slots = int(v.job.rec.get("slots", 1))
        host = (f"{slots}*{v.host}" if slots > 1 else v.host) if fields.value("first_host", v) else ""
        line = "%-7d %-7s %-5.5s %-10s %-11s %-11s %-10s %s" % (  # noqa: UP031 - OpenLava's format
            v.job.id, v.job.user, v.stat, v.job.rec["queue"], v.job.rec["from_host"], host, name,
            fields.value("submit_time", v))
        if extra:
            line += "  {} {} {} {} {} {} {}".format(
                fields.value("proj_name", v), "00:00:00", "0 Mbytes", "0 Mbytes",
                fields.value("pids", v) or "-", _stamp(v.start), _stamp(v.finish if v.final else None))
        sys.stdout.write(line + "\n")


def parse_args(argv: list[str]) -> tuple[dict[str, object], list[str]]:
    opts: dict[str, object] = {}
    ids: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-o", "-u", "-q", "-J", "-m", "-P", "-g", "-G"):
            if i + 1 >= len(argv):
                emu.die(f"{arg}: option requires an argument\n{USAGE}")
            opts[arg] = argv[i + 1]
            i += 1
        elif arg in ("-a", "-d", "-p", "-r", "-s", "-w", "-W", "-noheader", "-json", "-A", "-x", "-X",
                     "-hms"):
            opts[arg] = True
        elif arg in ("-h", "-V"):
            emu.die(USAGE if arg == "-h" else "IBM Spectrum LSF 10.1.0.0 (remotejobs emulator)", 0)
        elif arg.startswith("-"):
            emu.die(f"{arg}: Illegal option\n{USAGE}")
        else:
            ids += shlex.split(arg) if " " in arg else [arg]
        i += 1
    return opts, ids


def select(opts: dict[str, object], ids: list[str], me: str) -> tuple[list[emu.View | str], str]:
    """The views to print, with "not found" messages in place of missing ids."""
    if ids:
        items: list[emu.View | str] = []
        for text in ids:
            ref = emu.parse_job_ref(text)
            job = emu.find_job(ref[0]) if ref else None
            found = emu.views([job], me) if job else []
            if ref and ref[1] is not None:
                found = [v for v in found if v.idx == ref[1] and v.job.is_array]
            items += found or [f"Job <{text}> is not found"]  # IBM LSB_BJOBS_CONSISTENT_EXIT_CODE page
        return items, ""
    user = str(opts.get("-u") or me)
    found = emu.views(emu.all_jobs(None if user == "all" else user), me)
    flag = next((f for f in ("-a", "-d", "-p", "-r", "-s") if opts.get(f)), "")
    if flag != "-a":
        found = [v for v in found if v.stat in SELECT[flag]]
    if opts.get("-q"):
        found = [v for v in found if v.job.rec["queue"] == opts["-q"]]
    if opts.get("-J"):
        found = [v for v in found if fnmatch.fnmatchcase(fields.value("job_name", v), str(opts["-J"]))
                 or fnmatch.fnmatchcase(v.job.rec["name"], str(opts["-J"]))]
    found.sort(key=lambda v: (ORDER.get(v.stat, 1), v.job.id, v.idx))
    message = EMPTY[flag] + (f" in queue <{opts['-q']}>" if opts.get("-q") else "")
    return list(found), message


def main(argv: list[str]) -> int:
    opts, ids = parse_args(argv)
    me = emu.caller()
    items, empty_message = select(opts, ids, me)
    found = [i for i in items if not isinstance(i, str)]
    missing = [i for i in items if isinstance(i, str)]
    if opts.get("-json"):
        if "-o" not in opts:
            emu.die("-json: The -json option must be used with the -o option.")  # assumed: wording
        columns, _ = parse_format(str(opts["-o"]))
        print_json(columns, items)
        return 255 if missing else 0
    if "-o" in opts:
        columns, delimiter = parse_format(str(opts["-o"]))
        if found:
            print_columns(columns, delimiter, found, bool(opts.get("-noheader")))
    elif found:
        print_table(found, bool(opts.get("-w")), bool(opts.get("-W")), bool(opts.get("-noheader")))
    sys.stdout.flush()
    for message in missing:
        sys.stderr.write(message + "\n")  # IBM LSB_BJOBS_CONSISTENT_EXIT_CODE page (README Sources)
    if not items:
        sys.stderr.write(empty_message + "\n")  # IBM LSB_BJOBS_CONSISTENT_EXIT_CODE page (README Sources)
        return 255
    return 255 if missing else 0
