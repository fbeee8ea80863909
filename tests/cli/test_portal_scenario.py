"""The ICAT Job Portal's command-line scenario, through the real executable on the live
cluster: login, session, jobtypes, submit of a batch type over three datasets as ONE
native array job (Slurm, and the LSF emulator), status, and download of one element."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Cli

pytestmark = pytest.mark.cluster


@pytest.mark.parametrize(("resource", "element"), [("hpc", "{id}_{i}"), ("lsfhpc", "{id}[{i}]")])
def test_portal_scenario(cli: Cli, tmp_path: Path, resource: str, element: str) -> None:
    login = cli("login", resource)
    assert f"Logged in to {resource} as rjalice" in login.stdout
    session = json.loads(cli("-r", resource, "session", "--json").stdout)
    assert session["user"] == "rjalice" and session["logged_in"] and session["agent"]
    assert "reduce is batch: Reduce one run" in cli("jobtypes").stdout
    listed = json.loads(cli("-r", resource, "datasets", "raw", "--json").stdout)
    assert [(d["name"], d["metadata"]["sample"]) for d in listed] == [("run1", "S1"), ("run2", "S2"), ("run3", "S3")]

    submitted = json.loads(cli("-r", resource, "submit", "reduce", "-o", "bins=7", "raw:run*", "--json").stdout)
    assert submitted["mode"] == "array" and len(submitted["ids"]) == 1  # one scheduler job for three datasets
    array_id = submitted["ids"][0]
    elements = [element.format(id=array_id, i=i) for i in (1, 2, 3)]
    assert submitted["elements"] == dict(zip(["run1", "run2", "run3"], elements, strict=True))

    waited = cli("-r", resource, "wait", array_id, "--timeout", "5m", "--json")
    assert json.loads(waited.stdout)[0]["state"] == "COMPLETED"
    infos = json.loads(cli("-r", resource, "status", *elements, "--json").stdout)
    assert [(i["id"], i["state"]) for i in infos] == [(e, "COMPLETED") for e in elements]
    listing = cli("-r", resource, "status", "--name", "reduce*", "--all").stdout
    assert array_id in listing and "COMPLETED" in listing

    out = tmp_path / "out"
    files = json.loads(cli("-r", resource, "download", elements[1], str(out), "--json").stdout)["files"]
    names = sorted(Path(f).name for f in files)
    assert "stdout-2" in names and "stdout-1" not in names and "stdout-3" not in names
    text = (out / "stdout-2").read_text()
    assert '"sample": "S2"' in text and "reduced run2 bins=7" in text
    cli("logout", resource)
    gone = cli("-r", resource, "status", array_id, check=False, env={"REMOTEJOBS_AGENT": "0"})
    assert gone.returncode in (0, 3)  # key-based backends resume implicitly without the agent


def test_option_errors_are_usage_errors_naming_the_option(cli: Cli) -> None:
    cli("login", "hpc")
    bad = cli("-r", "hpc", "submit", "reduce", "-o", "bins=lots", "raw:run1", check=False)
    assert bad.returncode == 2
    assert "Invalid option 'bins' of job type 'reduce': 'lots' is not an integer from 1 to inf" in bad.stderr
    unknown = cli("-r", "hpc", "submit", "reduce", "-o", "colour=red", "raw:run1", check=False)
    assert unknown.returncode == 2 and "no such option; options: bins" in unknown.stderr
    missing = cli("-r", "hpc", "submit", "reduce", "raw:run9", check=False)
    assert missing.returncode == 1 and "No dataset matches 'run9' in source 'raw'" in missing.stderr
    no_type = cli("-r", "hpc", "submit", "nosuch", "x", check=False)
    assert no_type.returncode == 2 and "No job type named 'nosuch'; job types: reduce" in no_type.stderr
