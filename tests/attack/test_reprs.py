"""No planted secret in the repr or str of what a program holds after logging in: the
resource, its settings, the job's spec (a token in its environment), a job handle and its
JobInfo, on every scheduler backend over SSH (password login, plus a key passphrase in the
settings)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from pydantic import SecretStr

from remotejobs.models import JobSpec
from remotejobs.testing.sentinel import Sentinel

from .conftest import OPENERS

pytestmark = pytest.mark.cluster


@pytest.mark.parametrize("backend", sorted(OPENERS))
def test_reprs_after_login_hold_no_secret(backend: str, cluster: dict[str, Any], ssh_settings: dict[str, Any],
                                          cluster_users: list[dict[str, Any]], secret_sentinel: Sentinel) -> None:
    user = cluster_users[0]
    passphrase = secret_sentinel.plant(f"rj-passphrase-{secrets.token_hex(8)}", "key passphrase")
    resource = OPENERS[backend](cluster, ssh_settings, user)
    settings = resource.settings.model_copy(update={"key_passphrase": SecretStr(passphrase)})
    resource = type(resource)(settings, name=resource.name)
    resource.login(user["name"], user["password"])
    try:
        token = secret_sentinel.plant(f"rj-env-token-{secrets.token_hex(8)}", "environment value")
        spec = JobSpec(executable="/bin/true", name="rj-repr", environment={"RJ_TOKEN": token})
        job = resource.submit(spec)
        info = job.status()
        leaks = [leak for obj, where in ((resource, "resource"), (resource.settings, "settings"), (spec, "JobSpec"),
                                         (job, "job"), (info, "JobInfo"))
                 for leak in secret_sentinel.check_object(obj, f"{where} of {backend}")]
        assert leaks == [], leaks
        assert passphrase not in repr(resource.settings) and user["password"] not in repr(resource)
    finally:
        resource.close()
