"""The conformance suite against ``lsf-web`` on the emulated PAC (HTTPS, real jobs)."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
from pac_emulator import PacEmulator
from remotejobs_lsf_web import LsfWebResource

from remotejobs.models import JobSpec, JobState
from remotejobs.testing import ContractEnv, ResourceContract
from remotejobs.testing.contract import HOSTILE_STRINGS


class TestLsfWebContract(ResourceContract):
    @pytest.fixture
    def contract_env(
        self, open_lsf_web: Callable[..., LsfWebResource], users: list[tuple[str, str]],
        cluster_users: list[dict[str, str]],
    ) -> ContractEnv:
        # PAC hands INPUT_ARGS (one string) to the application template; what the template
        # does with it is site configuration, so verbatim arguments are not promised.
        return ContractEnv(
            open=lambda i: open_lsf_web(),
            users=list(users),
            remote_dir=f"{cluster_users[0]['home']}/pac-uploads",
            timeout=90.0,
            verbatim_arguments=False,
        )


def test_arguments_verbatim_with_a_shell_template(
    open_lsf_web: Callable[..., LsfWebResource], users: list[tuple[str, str]], tmp_path: Path, pac: PacEmulator
) -> None:
    """With a template that evaluates INPUT_ARGS with sh (the emulator's, like PAC's generic
    one), the shlex-quoted arguments arrive verbatim and nothing in them is executed."""
    resource = open_lsf_web()
    resource.login(*users[0])
    script = 'for a; do printf "<%s>\\n" "$a"; done'
    job = resource.submit(JobSpec(executable="/bin/sh", arguments=("-c", script, "sh", *HOSTILE_STRINGS),
                                  name="we ird; $(name) `x`"))
    assert job.wait(timeout=90).state is JobState.COMPLETED
    out = "".join(p.read_text(encoding="utf-8") for p in job.download(tmp_path))
    for text in HOSTILE_STRINGS:
        assert f"<{text}>" in out
    assert not Path("/tmp/remotejobs-pwned").exists()
    info = job.status()
    assert info.name == "we ird; $(name) `x`"
    assert info.command == "/bin/sh " + shlex.join(("-c", script, "sh", *HOSTILE_STRINGS))
    resource.close()
