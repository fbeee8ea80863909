"""Job types and datasets: files, typed options, specs, and submission on the local backend."""

from __future__ import annotations

import json
import shlex
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

import remotejobs
from remotejobs.datasets import Dataset, DatasetNotFoundError, dataset_sources
from remotejobs.errors import ConfigurationError, InvalidJobSpecError, InvalidSettingsError
from remotejobs.jobtypes import (
    JobTypeDefinitionError,
    OptionError,
    element_files,
    job_types,
    load_job_type,
    submit,
)
from remotejobs.jobtypes._plan import ARRAY_SHIM

REDUCE = """\
description = "Reduce raw runs"
command = "/bin/sh -c 'echo reduce \\"$@\\"' reduce --bins ${bins} --mode=${mode} ${verbose} ${dataset}"
datasets = "one"
dataset_types = ["raw", "calibration"]

[resources]
walltime = "1:30:00"
cores = 2
memory_mb = 500

[options.bins]
type = "int"
default = 100
min = 1
help = "Number of bins"

[options.mode]
type = "choice"
choices = ["fast", "exact"]
default = "fast"

[options.verbose]
type = "bool"
flag = "-v"
default = false

[options.mask]
type = "file"
flag = "--mask"
dataset_types = ["raw"]
"""

MERGE = """\
command = "/bin/echo merged ${datasets}"
datasets = "many"
"""

IJP_XML = """\
<jobType>
    <name>ingest</name>
    <executable>/bin/echo</executable>
    <type>batch</type>
    <multiple forceSingleJob="false">false</multiple>
    <datasetTypes>raw</datasetTypes>
    <jobOptions>
        <name>Number of bins</name>
        <type>integer</type>
        <programParameter>--bins</programParameter>
        <defaultValue>10</defaultValue>
        <minValue>1</minValue>
        <maxValue>1000</maxValue>
        <tip>How many bins</tip>
    </jobOptions>
    <jobOptions>
        <name>fast</name>
        <type>boolean</type>
        <programParameter>--fast</programParameter>
    </jobOptions>
    <jobOptions>
        <name>mode</name>
        <type>enumeration</type>
        <programParameter>--mode</programParameter>
        <values>a</values>
        <values>b</values>
    </jobOptions>
</jobType>
"""


@pytest.fixture
def types_dir(tmp_path: Path) -> Path:
    d = tmp_path / "job-types"
    d.mkdir()
    (d / "reduce.toml").write_text(REDUCE)
    (d / "merge.toml").write_text(MERGE)
    (d / "ingest.xml").write_text(IJP_XML)
    return d


RAW = [Dataset(f"run{i}", "raw", f"/data/run {i}", {"i": i}) for i in (1, 2, 3)]


def test_files_load_with_typed_options_and_defaults(types_dir: Path) -> None:
    types = job_types([types_dir])
    assert list(types) == ["ingest", "merge", "reduce"]
    reduce = types["reduce"]
    assert reduce.resources.walltime == timedelta(minutes=90) and reduce.resources.cores == 2
    spec = reduce.spec({"bins": "7", "verbose": "yes"}, [RAW[0]])
    assert list(spec.arguments[2:]) == ["reduce", "--bins", "7", "--mode=fast", "-v", "/data/run 1"]
    assert spec.walltime == timedelta(minutes=90) and spec.processes_per_node == 2 and spec.memory_mb == 500
    assert spec.name == "reduce" and spec.environment["REMOTEJOBS_JOB_TYPE"] == "reduce"
    with_mask = reduce.spec({"mask": "/m.nxs"}, [RAW[0]])
    assert list(with_mask.arguments[-2:]) == ["--mask", "/m.nxs"]


def test_the_portal_xml_form(types_dir: Path) -> None:
    ingest = job_types([types_dir])["ingest"]
    assert ingest.kind == "batch" and ingest.datasets == "one" and ingest.dataset_types == ("raw",)
    spec = ingest.spec({"Number_of_bins": 5, "fast": True}, [RAW[0]])
    assert [spec.executable, *spec.arguments] == ["/bin/echo", "--bins", "5", "--fast", "/data/run 1"]
    with pytest.raises(OptionError, match=r"'mode' of job type 'ingest': 'c' is not one of a, b"):
        ingest.spec({"mode": "c"}, [RAW[0]])


@pytest.mark.parametrize(("options", "message"), [
    ({"bins": "many"}, r"option 'bins' of job type 'reduce': 'many' is not an integer from 1 to inf"),
    ({"bins": 0}, r"option 'bins'.*0 is not an integer from 1"),
    ({"mode": "slow"}, r"option 'mode'.*'slow' is not one of fast, exact"),
    ({"verbose": "maybe"}, r"option 'verbose'.*'maybe' is not true or false"),
    ({"colour": "red"}, r"option 'colour' of job type 'reduce': no such option; options: bins, mode, verbose, mask"),
])
def test_option_errors_name_the_option_and_what_is_valid(types_dir: Path, options: dict[str, object],
                                                         message: str) -> None:
    reduce = job_types([types_dir])["reduce"]
    with pytest.raises(OptionError, match=message) as caught:
        reduce.spec(options, [RAW[0]])
    assert caught.value.hint == "See: remotejobs jobtypes reduce"


def test_several_datasets_offer_only_the_options_common_to_their_types(types_dir: Path) -> None:
    reduce = job_types([types_dir])["reduce"]
    calib = Dataset("cal", "calibration", "/data/cal")
    assert [o.name for o in reduce.options_for([RAW[0], calib])] == ["bins", "mode", "verbose"]
    with pytest.raises(OptionError, match=r"'mask'.*does not apply to datasets of type calibration, raw"):
        reduce.spec({"mask": "/m"}, [RAW[0], calib])
    with pytest.raises(OptionError, match=r"dataset 'x' is of type 'other'; this job type takes raw, calibration"):
        reduce.spec({}, [Dataset("x", "other", "/x")])


def test_array_spec_runs_each_datasets_command_line_verbatim(types_dir: Path, tmp_path: Path) -> None:
    reduce = job_types([types_dir])["reduce"]
    spec = reduce.spec({"bins": 3}, RAW)
    assert spec.array == "1-3" and spec.executable == "/bin/sh" and spec.arguments[1] == ARRAY_SHIM
    for index in (1, 2, 3):  # run the element as Slurm would, through a real shell
        done = subprocess.run(["/bin/sh", *spec.arguments], capture_output=True, text=True, check=True,
                              env={"SLURM_ARRAY_TASK_ID": str(index), "PATH": "/usr/bin:/bin"})
        assert done.stdout == f"reduce --bins 3 --mode=fast /data/run {index}\n"
    lsf = subprocess.run(["/bin/sh", *spec.arguments], capture_output=True, text=True, check=True,
                         env={"LSB_JOBINDEX": "2", "PATH": "/usr/bin:/bin"})
    assert lsf.stdout.endswith("/data/run 2\n")
    none = subprocess.run(["/bin/sh", *spec.arguments], capture_output=True, text=True, check=False, env={})
    assert none.returncode == 2 and "no job array index" in none.stderr


def test_hostile_dataset_locations_reach_the_program_verbatim(types_dir: Path) -> None:
    reduce = job_types([types_dir])["reduce"]
    evil = [Dataset("a", "raw", "$(touch /tmp/pwned); `id` 'x\" *"), Dataset("b", "raw", "-rf ; ls")]
    spec = reduce.spec({}, evil)
    done = subprocess.run(["/bin/sh", *spec.arguments], capture_output=True, text=True, check=True,
                          env={"SLURM_ARRAY_TASK_ID": "1", "PATH": "/usr/bin:/bin"})
    assert done.stdout == f"reduce --bins 100 --mode=fast {evil[0].location}\n"
    assert shlex.split(reduce.command)[0] == "/bin/sh"


def test_many_type_gets_all_datasets_in_one_job(types_dir: Path) -> None:
    spec = job_types([types_dir])["merge"].spec({}, RAW)
    assert spec.array is None and list(spec.arguments) == ["merged", *(d.location for d in RAW)]


@pytest.mark.parametrize(("text", "message"), [
    ('command = "x ${nope}"', r"command uses \$\{nope\}, which is not an option; options: none"),
    ('command = "x"\ncolour = 1', r"key 'colour': unknown key; valid keys: .*command"),
    ('command = "x"\n[options.n]\ntype = "int"\ndefault = "ten"', r"key 'options.n'.*'ten' is not an integer"),
    ('command = "x"\n[options.c]\ntype = "choice"', r"needs 'choices'"),
    ('command = "x"\n[resources]\nwalltime = "soon"', r"'soon' is not a walltime"),
    ("command = ", r"not valid TOML"),
])
def test_bad_files_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(JobTypeDefinitionError, match=message) as caught:
        load_job_type(path)
    assert str(path) in str(caught.value)


def test_directory_source_reads_globs_and_sidecars(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    for i in (1, 2):
        (data / f"run{i}").mkdir(parents=True)
        (data / f"run{i}" / "dataset.json").write_text(json.dumps({"sample": f"s{i}", "type": "raw"}))
    (data / "cal.nxs").write_text("x")
    (data / "cal.nxs.json").write_text('{"type": "calibration"}')
    config = tmp_path / "config.toml"
    config.write_text(f'[datasets.lab]\nsource = "directory"\npattern = ["{data}/run*", "{data}/*.nxs"]\n'
                      'type = "raw"\n')
    monkeypatch.setenv("REMOTEJOBS_CONFIG", str(config))
    lab = dataset_sources()["lab"]
    found = lab.datasets()
    assert [(d.name, d.type, d.metadata.get("sample")) for d in found] == [
        ("cal.nxs", "calibration", None), ("run1", "raw", "s1"), ("run2", "raw", "s2")]
    assert found[1].location == str(data / "run1") and found[1].source == "lab"
    with pytest.raises(DatasetNotFoundError, match=r"No dataset 'run9' in source 'lab'; it has: cal\.nxs, run1, run2"):
        lab.get("run9")
    config.write_text('[datasets.lab]\nsource = "directory"\npattern = "x"\ntype = "raw"\ncolor = 1\n')
    with pytest.raises(InvalidSettingsError, match=r"\[datasets.lab\] key 'color': unknown key.*valid keys: "):
        dataset_sources()
    config.write_text('[datasets.lab]\nsource = "icat"\n')
    with pytest.raises(InvalidSettingsError, match=r"'source' must name a dataset source kind.*valid keys: directory"):
        dataset_sources()
    (data / "run1" / "dataset.json").write_text("{oops")
    config.write_text(f'[datasets.lab]\nsource = "directory"\npattern = "{data}/run*"\ntype = "raw"\n')
    with pytest.raises(ConfigurationError, match=r"sidecar of dataset .*run1.* is not valid JSON"):
        dataset_sources()["lab"].datasets()


def test_a_source_plugin_registers_through_the_hook() -> None:
    from remotejobs._plugins import add_plugin, make_plugin_manager, register_backends
    from remotejobs.registry import BackendRegistry

    class Catalogue:
        @remotejobs.hookimpl
        def remotejobs_register_dataset_sources(self, registry):  # type: ignore[no-untyped-def]
            registry.add_dataset_source("icat", "remotejobs.datasets.directory:DirectorySource")

    registry, pm = BackendRegistry(), make_plugin_manager()
    assert add_plugin(registry, pm, Catalogue(), "catalogue", "acme-icat")
    register_backends(registry, pm)
    assert {"directory", "icat"} <= set(registry.dataset_sources)


def test_submit_without_arrays_makes_separate_jobs_and_follows_them(types_dir: Path, tmp_path: Path) -> None:
    with remotejobs.open_resource(backend="local", state_dir=str(tmp_path / "state")) as box:
        box.login()
        with pytest.raises(InvalidJobSpecError, match="memory_mb"):  # local cannot limit memory: refused
            submit(job_types([types_dir])["reduce"], box, {"bins": 2}, RAW[:2])
        assert box.jobs() == []
        (types_dir / "reduce.toml").write_text(REDUCE.replace("memory_mb = 500\n", ""))
        reduce = job_types([types_dir])["reduce"]
        jobs = submit(reduce, box, {"bins": 2}, RAW[:2])
        assert jobs.mode == "separate" and len(jobs.ids) == 2
        infos = jobs.wait(timeout=120)
        assert {n: i.state.value for n, i in infos.items()} == {"run1": "COMPLETED", "run2": "COMPLETED"}
        out = jobs.download(tmp_path / "out", dataset="run2")
        assert list(out) == ["run2"]
        assert any(p.read_text() == "reduce --bins 2 --mode=fast /data/run 2\n" for p in out["run2"])


def test_element_files_keep_only_that_elements_outputs() -> None:
    names = ["stdout-1", "stderr-1", "stdout-2", "stderr-2", "job.sh", "result.txt"]
    assert element_files(names, "1234_2") == ["stdout-2", "stderr-2", "job.sh", "result.txt"]
    assert element_files(names, "77[1]") == ["stdout-1", "stderr-1", "job.sh", "result.txt"]
    assert element_files(names, "1234") == names
