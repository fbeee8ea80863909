"""Mantid's SCARFTomoReconstruction actions, end to end on the emulated SCARF service."""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pac_emulator import PacEmulator, TlsFiles
from remotejobs_lsf_web.settings import ScarfSettings
from remotejobs_mantid import ActionFailed, MantidSettings, SCARFTomoReconstruction, actions

from remotejobs.errors import AuthenticationError

RECON = """\
import sys, pathlib
print("recon args:", " ".join(sys.argv[1:]))
pathlib.Path("recon_out.txt").write_text("reconstructed\\n")
"""


@pytest.fixture
def scarf(pac: PacEmulator, tls: TlsFiles) -> Iterator[actions.ScarfActions]:
    """The process-wide actions pointed at the emulator (SCARF preset, token script login)."""
    state = actions.configure(ScarfSettings(token_url=pac.token_url.replace("/cgi-bin", "//cgi-bin"),
                                           login_marker=pac.origin, ping_url=pac.base_url,
                                           ca_bundle=str(tls.ca_cert)))
    yield state
    actions.configure(ScarfSettings())


def _wait_status(user: str, job_id: str, words: set[str], timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = SCARFTomoReconstruction(UserName=user, Action="JobStatusByID", JobID=int(job_id))["RemoteJobStatus"]
        if status in words or time.monotonic() > deadline:
            return str(status)
        time.sleep(0.3)


def test_seed_usage_example_behaves_as_documented() -> None:
    """The algorithm documentation's example (Python 3 print), with its documented output."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            SCARFTomoReconstruction(UserName="foouser", Action="Login")
        except ValueError:
            print("ValueError, as expected, because no Password= parameter given")
        try:
            SCARFTomoReconstruction(UserName="foouser", Action="Submit")
        except ValueError:
            print("ValueError, as expected, as it was not previously logged on")
    assert out.getvalue() == (
        "ValueError, as expected, because no Password= parameter given\n"
        "ValueError, as expected, as it was not previously logged on\n"
    )


def test_value_errors_are_informative(scarf: actions.ScarfActions, pac: PacEmulator) -> None:
    before = len(pac.server.requests)
    with pytest.raises(ValueError, match=r"allowed values are LogIn, .*Did you mean 'LogIn'"):
        SCARFTomoReconstruction(UserName="foouser", Action="Login")
    with pytest.raises(ValueError, match="empty password"):
        SCARFTomoReconstruction(UserName="foouser", Action="LogIn")
    with pytest.raises(ValueError, match=r"Job submission failed\. You do not seem to be logged in.*'foouser'"):
        SCARFTomoReconstruction(UserName="foouser", Action="SubmitJob")
    with pytest.raises(ValueError, match="JobID"):
        SCARFTomoReconstruction(UserName="foouser", Action="JobStatusByID", JobID="strings_not_allowed")
    with pytest.raises(ValueError, match="Unknown property 'Pasword'"):
        SCARFTomoReconstruction(UserName="foouser", Action="LogIn", Pasword="x")
    assert len(pac.server.requests) == before  # all refused before any network traffic


def test_wrong_password_is_a_runtime_error(scarf: actions.ScarfActions, users: list[tuple[str, str]]) -> None:
    with pytest.raises(ActionFailed) as err:
        SCARFTomoReconstruction(UserName=users[0][0], Action="LogIn", Password="wrong")
    assert isinstance(err.value, RuntimeError) and isinstance(err.value.error, AuthenticationError)
    with pytest.raises(ValueError, match="not seem to be logged in"):
        SCARFTomoReconstruction(UserName=users[0][0], Action="JobStatus")


def test_scenario_end_to_end(scarf: actions.ScarfActions, pac: PacEmulator, users: list[tuple[str, str]],
                             cluster_users: list[dict[str, Any]], tmp_path: Path) -> None:
    (alice, alice_pw), (bob, bob_pw) = users
    assert SCARFTomoReconstruction(UserName=alice, Action="Ping") == {}
    SCARFTomoReconstruction(UserName=alice, Action="LogIn", Password=alice_pw)
    SCARFTomoReconstruction(UserName=bob, Action="LogIn", Password=bob_pw)

    script = tmp_path / "imat_recon.py"
    script.write_text(RECON)
    remote_dir = f"{cluster_users[0]['home']}/imat"
    up = SCARFTomoReconstruction(UserName=alice, Action="Upload", FileToUpload=str(script),
                                 DestinationDirectory=remote_dir)
    assert up["RemoteFile"] == f"{remote_dir}/imat_recon.py"

    options = '--tool=tomopy --algorithm=gridrec --output="out dir" --num-iter=5'
    job_id = SCARFTomoReconstruction(Action="SubmitJob", RunnablePath=up["RemoteFile"], JobOptions=options)["JobID"]
    record = pac.service.record(job_id)
    assert record is not None and record.app == "TOMOPY_0_1_9" and record.name == "Mantid_tomography_1"
    astra = SCARFTomoReconstruction(Action="SubmitJob", RunnablePath=up["RemoteFile"], JobName="astra run",
                                    JobOptions="--tool astra --algorithm FBP3D_CUDA")["JobID"]
    astra_record = pac.service.record(astra)
    assert astra_record is not None and astra_record.app == "PYASTRATOOLBOX_1_6"

    assert _wait_status(alice, job_id, {"Done", "Exit"}) == "Done"
    status = SCARFTomoReconstruction(UserName=alice, Action="JobStatus")
    assert job_id in status["RemoteJobsID"] and astra in status["RemoteJobsID"]
    index = status["RemoteJobsID"].index(job_id)
    assert status["RemoteJobsNames"][index] == "Mantid_tomography_1"
    assert status["RemoteJobsCommands"][index] == f"python3 {up['RemoteFile']} --tool=tomopy --algorithm=gridrec " \
                                                 "'--output=out dir' --num-iter=5"
    by_id = SCARFTomoReconstruction(UserName=alice, Action="JobStatusByID", JobID=int(job_id))
    assert (by_id["RemoteJobName"], by_id["RemoteJobStatus"]) == ("Mantid_tomography_1", "Done")
    missing = SCARFTomoReconstruction(UserName=alice, Action="JobStatusByID", JobID=987654321)
    assert set(missing.values()) == {"Unknown!"}

    everything = SCARFTomoReconstruction(UserName=alice, Action="Download", DownloadJobID=int(job_id),
                                         LocalDirectory=str(tmp_path / "all"))
    names = sorted(Path(p).name for p in everything["LocalFiles"])
    assert names == sorted([f"{job_id}.error", f"{job_id}.output", "recon_out.txt"])
    assert "recon args: --tool=tomopy --algorithm=gridrec --output=out dir --num-iter=5" in (
        tmp_path / "all" / f"{job_id}.output").read_text()
    one = SCARFTomoReconstruction(UserName=alice, Action="Download", DownloadJobID=int(job_id),
                                  RemoteJobFilename="recon_out.txt", LocalDirectory=str(tmp_path / "one"))
    assert [Path(p).read_text() for p in one["LocalFiles"]] == ["reconstructed\n"]

    bob_job = SCARFTomoReconstruction(UserName=bob, Action="SubmitJob", RunnablePath="/bin/sleep",
                                      JobOptions="120")  # bob's own session, same process
    assert bob_job["JobID"] not in SCARFTomoReconstruction(UserName=alice, Action="JobStatus")["RemoteJobsID"]
    SCARFTomoReconstruction(UserName=bob, Action="CancelJob", CancelJobID=int(bob_job["JobID"]))
    assert _wait_status(bob, bob_job["JobID"], {"Exit", "Done"}) == "Exit"

    SCARFTomoReconstruction(UserName=alice, Action="LogOut")
    with pytest.raises(ValueError, match=r"Job status query failed\. You do not seem to be logged in"):
        SCARFTomoReconstruction(UserName=alice, Action="JobStatus")
    assert bob_job["JobID"] in SCARFTomoReconstruction(UserName=bob, Action="JobStatus")["RemoteJobsID"]
    SCARFTomoReconstruction(Action="LogOut")  # bob, remembered
    login_requests = [r for r in pac.server.requests
                      if r[1] == "/cgi-bin/token.py" and r[2].get("user-agent", "").startswith("remotejobs-lsf-web")]
    assert login_requests and all(r[0] == "POST" for r in login_requests)


def test_defaults_come_from_settings(pac: PacEmulator, tls: TlsFiles, users: list[tuple[str, str]],
                                     cluster_users: list[dict[str, Any]], tmp_path: Path) -> None:
    """An own instance with other defaults: the submitted job uses them, the process-wide
    actions are untouched."""
    script = tmp_path / "custom.py"
    script.write_text(RECON)
    service = ScarfSettings(token_url=pac.token_url, login_marker=pac.origin, ping_url=pac.base_url,
                            ca_bundle=str(tls.ca_cert))
    remote_dir = f"{cluster_users[0]['home']}/custom-defaults"
    state = actions.ScarfActions(MantidSettings(service=service, compute_resource="TEST@HOME",
                                                destination_directory=remote_dir, job_name_prefix="Custom_",
                                                runnable_path=f"{remote_dir}/custom.py", job_options="--from-settings"))
    user, password = users[0]
    state(UserName=user, Action="LogIn", Password=password)
    try:
        assert state(Action="Upload", FileToUpload=str(script))["RemoteFile"] == f"{remote_dir}/custom.py"
        job_id = state(Action="SubmitJob")["JobID"]
        record = pac.service.record(job_id)
        assert record is not None and record.name == "Custom_1"
        assert f"{remote_dir}/custom.py --from-settings" in record.cmd
        with pytest.raises(ValueError, match="TEST@HOME"):
            state(UserName="nobody", Action="LogIn")
    finally:
        state(UserName=user, Action="LogOut")
    assert actions.ScarfActions().config == MantidSettings()  # SCARF's defaults otherwise
    assert MantidSettings().runnable_path == "/work/imat/webservice_test/tomopy/imat_recon_FBP.py"
