"""Registration, settings and the submit mapping of lsf-web (no network)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from remotejobs_lsf_web import LsfWebResource, LsfWebSettings, ScarfResource, ScarfSettings
from remotejobs_lsf_web.settings import SCARF_PORTAL

import remotejobs
from remotejobs.errors import InvalidJobSpecError, InvalidSettingsError
from remotejobs.models import Capability, JobSpec


def test_backends_are_registered_and_open_inline() -> None:
    assert {"lsf-web", "scarf"} <= set(remotejobs.available_backends())
    resource = remotejobs.open_resource(backend="scarf")
    assert isinstance(resource, ScarfResource)
    assert Capability.LOGIN_REQUIRED in resource.capabilities and resource.password_required()
    web = remotejobs.open_resource(backend="lsf-web", base_url="https://pac.example:8443/platform")
    assert isinstance(web, LsfWebResource) and web.settings.base_url == "https://pac.example:8443/platform/"


def test_invalid_settings_name_the_key() -> None:
    with pytest.raises(InvalidSettingsError, match="base_url"):
        remotejobs.open_resource(backend="lsf-web")
    with pytest.raises(InvalidSettingsError, match="unknown key"):
        remotejobs.open_resource(backend="lsf-web", base_url="https://h/platform/", passwd="x")


def test_scarf_preset_defaults() -> None:
    settings = ScarfSettings()
    assert settings.login_method == "token-script"
    assert settings.token_url == f"{SCARF_PORTAL}/cgi-bin/token.py" and settings.login_marker == SCARF_PORTAL
    assert settings.ping_url == f"{SCARF_PORTAL}:8443/platform/"
    assert (settings.app_name, settings.tool_apps) == ("TOMOPY_0_1_9", {"astra": "PYASTRATOOLBOX_1_6"})


@pytest.mark.parametrize(
    ("arguments", "app"),
    [((), "TOMOPY_0_1_9"), (("--tool=astra", "--x"), "PYASTRATOOLBOX_1_6"), (("--tool", "astra"), "PYASTRATOOLBOX_1_6"),
     (("--tool=tomopy",), "TOMOPY_0_1_9"), (("--tool",), "TOMOPY_0_1_9"), (("astra",), "TOMOPY_0_1_9")],
)
def test_scarf_application_rule(arguments: tuple[str, ...], app: str) -> None:
    resource = ScarfResource(ScarfSettings(), name="scarf")
    assert resource._app_for(arguments) == app


def test_params_map_the_jobspec() -> None:
    resource = LsfWebResource(LsfWebSettings(base_url="https://h/platform/", app_params={"QUEUE": "short"}), name="p")
    spec = JobSpec(executable="/opt/run.sh", arguments=("a b", "$X"), name="n", nodes=2, processes_per_node=3,
                   stdout="out.txt")
    common = {"OUTPUT_FILE": "out.txt", "ERROR_FILE": "%J.error", "JOB_NAME": "n", "MIN_NUM_CPU": "6",
              "MAX_NUM_CPU": "6", "PROC_PRE_HOST": "3", "QUEUE": "short"}
    assert dict(resource._params(spec, "TOMOPY_0_1_9")) == {
        "INPUT_ARGS": "'a b' '$X'", "INPUT_FILE": "/opt/run.sh", **common}
    assert dict(resource._params(spec, "generic")) == {"COMMANDTORUN": "/opt/run.sh 'a b' '$X'", **common}


def test_generic_application_gets_commandtorun() -> None:
    """IBM's own client submits to AppName ``generic`` with COMMANDTORUN, OUTPUT_FILE and
    ERROR_FILE (github.com/IBMSpectrumComputing/lsf-faas, src/lsf_faas/lsflib.py submitJob);
    no INPUT_FILE/INPUT_ARGS, which are the SCARF applications' parameters (Mantid)."""
    resource = LsfWebResource(LsfWebSettings(base_url="https://h/platform/"), name="p")
    spec = JobSpec(executable="python3", arguments=("lsf_faas.py",))
    app = resource._app_for(spec.arguments)
    params = dict(resource._params(spec, app))
    assert app == "generic" and params["COMMANDTORUN"] == "python3 lsf_faas.py"
    assert "INPUT_FILE" not in params and "INPUT_ARGS" not in params
    scarf = ScarfResource(ScarfSettings(), name="scarf")
    tomopy = dict(scarf._params(JobSpec(executable="/work/r.py", arguments=("--x",)), scarf._app_for(("--x",))))
    assert (tomopy["INPUT_FILE"], tomopy["INPUT_ARGS"]) == ("/work/r.py", "--x") and "COMMANDTORUN" not in tomopy


@pytest.mark.parametrize(
    "field", [{"walltime": timedelta(minutes=5)}, {"queue": "short"}, {"environment": {"A": "1"}},
              {"directory": "/tmp"}, {"memory_mb": 100}],
)
def test_fields_pac_cannot_honour_are_refused(field: dict[str, object]) -> None:
    resource = LsfWebResource(LsfWebSettings(base_url="https://h/platform/"), name="p")
    with pytest.raises(InvalidJobSpecError, match=next(iter(field))):
        resource._submit(JobSpec(executable="/bin/true", **field))
