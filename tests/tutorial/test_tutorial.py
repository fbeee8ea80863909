"""docs/writing-a-backend.md is true: its ``toyq`` backend, built from the page's code blocks
(each starts with a ``# file: <path>`` line, after a shebang if any), is a complete batch
backend that passes the conformance kit with the local transport.

Only the files the page shows are used: the ``toyq`` scheduler script, the dialect, the
resource declaration, the plugin module and the contract test class.
"""

from __future__ import annotations

import atexit
import getpass
import importlib
import re
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from remotejobs.errors import AuthenticationError, UnsupportedOperationError
from remotejobs.models import JobSpec
from remotejobs.registry import BackendRegistry
from remotejobs.scheduler import BatchResource, BatchSettings
from remotejobs.testing import ContractEnv

DOC = Path(__file__).resolve().parents[2] / "docs" / "writing-a-backend.md"
_BLOCK = re.compile(r"^```\w*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_FILE = re.compile(r"^# file: (\S+)$")


def doc_files(text: str) -> dict[str, str]:
    """``{path: content}`` of the code blocks that name their file."""
    files: dict[str, str] = {}
    for body in _BLOCK.findall(text):
        for line in body.splitlines()[:2]:
            match = _FILE.match(line)
            if match:
                files[match.group(1)] = body
    return files


FILES = doc_files(DOC.read_text(encoding="utf-8"))
BUILD = Path(tempfile.mkdtemp(prefix="remotejobs-tutorial-"))
atexit.register(shutil.rmtree, BUILD, ignore_errors=True)
for _path, _text in FILES.items():
    (BUILD / _path).parent.mkdir(parents=True, exist_ok=True)
    (BUILD / _path).write_text(_text, encoding="utf-8")
(BUILD / "remotejobs_toyq" / "__init__.py").touch()
(BUILD / "toyq").chmod(0o755)
sys.path.insert(0, str(BUILD))
toyq_contract = importlib.import_module("test_toyq_contract")
toyq_resource = importlib.import_module("remotejobs_toyq.resource")
toyq_plugin = importlib.import_module("remotejobs_toyq.plugin")


def test_the_page_gives_every_file_of_the_backend() -> None:
    assert set(FILES) == {"toyq", "remotejobs_toyq/dialect.py", "remotejobs_toyq/resource.py",
                          "remotejobs_toyq/plugin.py", "test_toyq_contract.py"}
    resource_code = FILES["remotejobs_toyq/resource.py"]
    assert "def " not in resource_code, "the resource must stay a declaration"


def test_the_declaration_derives_the_class_attributes() -> None:
    cls = toyq_resource.ToyqResource
    assert issubclass(cls, BatchResource) and cls.backend_name == "toyq"
    assert cls.settings_model is BatchSettings and cls.dialect_class.__name__ == "ToyqDialect"
    assert {c.value for c in cls.capabilities} == {"file-transfer"}


def test_the_plugin_registers_the_backend() -> None:
    registry = BackendRegistry()
    toyq_plugin.remotejobs_register_backends(registry)
    assert registry.load("toyq") is toyq_resource.ToyqResource


@pytest.fixture
def toyq_bin_dir() -> Path:
    return BUILD


def test_the_launchers_the_page_says_toyq_accepts() -> None:
    """The page's "Launchers: what a backend declares": a batch backend declares nothing;
    launchers for any scheduler are accepted, ``srun`` (Slurm's) is refused before sending."""
    resource = toyq_resource.ToyqResource(BatchSettings(bin_dir=str(BUILD)), name="toyq")
    try:
        assert resource.launch_steps
        assert {"multiple", "mpirun"} <= set(resource.launchers()) and "srun" not in resource.launchers()
        with pytest.raises(UnsupportedOperationError) as err:
            resource.submit(JobSpec(executable="/bin/true", launcher="srun"))
        assert "launcher='srun'" in str(err.value) and "'toyq'" in str(err.value)
    finally:
        resource.close()


class TestToyqFromTheDocs(toyq_contract.TestToyq):  # type: ignore[misc,name-defined]
    """The page's contract class, with its one documented replacement."""

    def test_two_users_do_not_see_each_other(self, contract_env: ContractEnv) -> None:
        """Local commands run as the current OS user: another user is refused at login,
        before anything runs (user separation is tested over SSH by the real backends)."""
        other = "rjbob" if getpass.getuser() != "rjbob" else "rjalice"
        resource = contract_env.open(1)
        with pytest.raises(AuthenticationError):
            resource.login(other, None)
        assert not resource.logged_in
