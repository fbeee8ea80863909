"""LSF emulator: ``bjobs`` (ref §1.3).

Selection: without ids, the caller's unfinished jobs (``-a`` adds those finished within
CLEAN_PERIOD, ``-d`` only those, ``-p``/``-r``/``-s`` pending/running/suspended; other
users' only with ``-u user|all``); named ids (``123``, ``"123[4]"``) are shown whatever
their state or owner. Output: the default table (OpenLava row format), ``-W``, ``-l`` (wrapped
at 79 columns mid-word, continuation indented 21) / ``-UF`` (unwrapped), ``-o`` fields
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

USAGE = ("Usage: bjobs [-h] [-V] [-w | -l | -UF] [-W] [-a] [-d] [-p] [-r] [-s] [-noheader]\n"
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
            emu.die(f"{name}: Illegal field name.")  # [emu] wording
        right = rest.startswith("-")
        size = rest.lstrip("-").split(":")[0]
        columns.append((field, int(size) if size.isdigit() else None, right))
    if not columns:
        emu.die("-o: Output format is empty.")
    return columns, delimiter


def _json_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False).replace("/", "\\/")  # ref §1.3: / as \/


def print_json(columns: list[tuple[str, int | None, bool]], items: list[emu.View | str]) -> None:
    """ref §1.3 ``-json``: pretty-printed, 2-space indents, no space after ':'."""
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
    """``MM/DD-HH:MM:SS`` as in bjobs -W (ref §1.3 wide flags)."""
    return time.strftime("%m/%d-%H:%M:%S", time.localtime(epoch)) if epoch else "-"


def print_table(found: list[emu.View], wide: bool, extra: bool, noheader: bool) -> None:
    """Default view: ``%-7d %-7s %-5.5s %-10s %-11s %-11s %-10s %s`` (ref §1.3)."""
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


def _wrap(text: str, unwrapped: bool) -> str:
    """bjobs -l wraps hard at 79 columns, in the middle of words, indent 21 (ref §1.3)."""
    if unwrapped or len(text) <= 79:
        return text
    lines, rest = [text[:79]], text[79:]
    while rest:
        lines.append(" " * 21 + rest[:58])
        rest = rest[58:]
    return "\n".join(lines)


def print_long(found: list[emu.View], unwrapped: bool) -> None:
    for n, v in enumerate(found):
        if n:
            sys.stdout.write("-" * 78 + "\n")
        rec = v.job.rec
        out = [""]
        out.append(f"Job <{v.ref}>, Job Name <{fields.value('job_name', v)}>, User <{v.job.user}>, "
                   f"Project <{fields.value('proj_name', v)}>, Status <{v.stat}>, Queue <{rec['queue']}>, "
                   f"Command <{rec['command']}>")
        sub = (f"{emu.long_time(rec['submit_time'])}: Submitted from host <{rec['from_host']}>, "
               f"CWD <{rec['cwd']}>")
        if rec.get("output"):
            sub += f", Output File{' (overwrite)' if rec.get('output_overwrite') else ''} <{rec['output']}>"
        if rec.get("error"):
            sub += f", Error File{' (overwrite)' if rec.get('error_overwrite') else ''} <{rec['error']}>"
        if int(rec.get("slots", 1)) > 1:
            sub += f", {rec['slots']} Task(s)"
        if rec.get("resreq"):
            sub += f", Requested Resources <{rec['resreq']}>"
        if rec.get("dependency"):
            sub += f", Dependency Condition <{rec['dependency']}>"
        out.append(sub + ";")
        if rec.get("runlimit_min"):
            out += ["", " RUNLIMIT", f" {float(rec['runlimit_min']):.1f} min", ""]
        if v.stat in ("PEND", "PSUSP"):
            out += [" PENDING REASONS:", f" {v.pend_reason};"]
        if fields.value("first_host", v) and v.start:
            out.append(f"{emu.long_time(v.start)}: Started 1 Task(s) on Host(s) <{v.host}>, "
                       f"Allocated {rec.get('slots', 1)} Slot(s) on Host(s) <{v.host}>, Execution Home "
                       f"<{fields.value('exec_home', v)}>, Execution CWD <{fields.value('exec_cwd', v)}>;")
        if v.final and v.finish:
            when = emu.long_time(v.finish)
            if v.stat == "DONE":
                out.append(f"{when}: Done successfully. The CPU time used is unknown.")
            elif v.exit_reason == emu.TERM_OWNER and v.exit_code is None:
                out.append(f"{when}: Exited; job has been forced to exit with exit code 2. "  # [mem]
                           "The CPU time used is unknown.")
            else:
                out.append(f"{when}: Exited with exit code {v.exit_code}. The CPU time used is unknown.")
            out.append(f"{when}: Completed <{v.stat.lower()}>.")
        out.append("")
        sys.stdout.write("\n".join(_wrap(line, unwrapped) for line in out) + "\n")


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
        elif arg in ("-a", "-d", "-p", "-r", "-s", "-w", "-W", "-l", "-UF", "-noheader", "-json", "-A", "-x", "-X",
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
            emu.die("-json: The -json option must be used with the -o option.")  # [emu] wording
        columns, _ = parse_format(str(opts["-o"]))
        print_json(columns, items)
        return 255 if missing else 0
    if "-o" in opts:
        columns, delimiter = parse_format(str(opts["-o"]))
        if found:
            print_columns(columns, delimiter, found, bool(opts.get("-noheader")))
    elif opts.get("-l") or opts.get("-UF"):
        print_long(found, bool(opts.get("-UF")))
    elif found:
        print_table(found, bool(opts.get("-w")), bool(opts.get("-W")), bool(opts.get("-noheader")))
    sys.stdout.flush()
    for message in missing:
        sys.stderr.write(message + "\n")
    if not items:
        sys.stderr.write(empty_message + "\n")
        return 255
    return 255 if missing else 0
