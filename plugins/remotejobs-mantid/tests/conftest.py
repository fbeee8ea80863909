"""The mantid suite runs on the PAC emulator of remotejobs-lsf-web's tests: its fixtures
(emulator, TLS files, users, the no-secret-in-logs capture) are taken from there."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_LSF_WEB_TESTS = Path(__file__).resolve().parents[2] / "remotejobs-lsf-web" / "tests"
sys.path.insert(0, str(_LSF_WEB_TESTS))  # the pac_emulator package

_spec = importlib.util.spec_from_file_location("remotejobs_lsf_web_test_fixtures", _LSF_WEB_TESTS / "conftest.py")
assert _spec is not None and _spec.loader is not None
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)

checker = _fixtures.checker
no_secrets_in_logs = _fixtures.no_secrets_in_logs
pac = _fixtures.pac
tls = _fixtures.tls
users = _fixtures.users
