"""submit_many on the built-in local backend: every spec is checked before any is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

import remotejobs
from remotejobs.errors import UnsupportedOperationError
from remotejobs.models import JobSpec


def test_a_spec_the_backend_cannot_honour_stops_all_before_anything_is_sent(tmp_path: Path) -> None:
    resource = remotejobs.open_resource(backend="local", state_dir=str(tmp_path / "state"))
    resource.login("alice")
    specs = [JobSpec(executable="/bin/true", name="fine"), JobSpec(executable="/bin/true", array="0-1", name="arr")]
    with pytest.raises(UnsupportedOperationError) as err:
        resource.submit_many(specs)
    assert "#1" in err.value.message and "'arr'" in err.value.message and err.value.resource == resource.name
    assert resource.jobs() == []
    resource.close()
