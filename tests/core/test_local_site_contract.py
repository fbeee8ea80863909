"""The site-field conformance kit against the built-in local backend: every site field it
does not declare is refused by name (no job runs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import remotejobs
from remotejobs.resource import ComputeResource
from remotejobs.testing.site_fields import SiteFieldsRefusalContract


class TestLocalSiteFields(SiteFieldsRefusalContract):
    @pytest.fixture
    def site_session(self, tmp_path: Path) -> Iterator[ComputeResource]:
        resource = remotejobs.open_resource(backend="local", state_dir=str(tmp_path / "state"))
        resource.login(None, None)
        yield resource
        resource.close()
