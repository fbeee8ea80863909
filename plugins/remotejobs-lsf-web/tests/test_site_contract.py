"""The site-field conformance kit against ``lsf-web`` (PAC): the site fields it does not
declare are refused by name before any request is sent."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from remotejobs_lsf_web import LsfWebResource

from remotejobs.resource import ComputeResource
from remotejobs.testing.site_fields import SiteFieldsRefusalContract


class TestLsfWebSiteFields(SiteFieldsRefusalContract):
    @pytest.fixture
    def site_session(self, open_lsf_web: Callable[..., LsfWebResource],
                     users: list[tuple[str, str]]) -> Iterator[ComputeResource]:
        resource = open_lsf_web()
        resource.login(*users[0])
        yield resource
        resource.close()
