"""The registration hook is called through pluggy's ``pm.hook``: ordering, tracing and
wrappers apply; a failing plugin is isolated; names are attributed to their plugin."""

from __future__ import annotations

import textwrap
import types

import pytest

import remotejobs
from remotejobs._plugins import add_plugin, make_plugin_manager, register_backends
from remotejobs.errors import BackendConflictError, PluginError
from remotejobs.registry import BackendRegistry

PLUGIN = """
import remotejobs
order = []

@remotejobs.hookimpl{marker}
def remotejobs_register_backends(registry):
    order.append("{name}")
    {body}
"""


def _plugin(name: str, body: str, marker: str = "") -> types.ModuleType:
    """A real plugin module, as an entry point would load it (``acme_<name>.plugin``)."""
    module = types.ModuleType(f"acme_{name}.plugin")
    exec(textwrap.dedent(PLUGIN.format(name=name, body=body, marker=marker)), module.__dict__)
    return module


def _registry(*plugins: tuple[str, types.ModuleType]) -> tuple[BackendRegistry, list[str]]:
    registry, pm = BackendRegistry(), make_plugin_manager()
    calls: list[str] = []
    pm.add_hookcall_monitoring(lambda name, impls, kwargs: calls.append(name), lambda *a: None)
    for name, module in plugins:
        assert add_plugin(registry, pm, module, name, f"acme-{name}")
    register_backends(registry, pm)
    return registry, calls


def test_hook_goes_through_the_plugin_manager_in_pluggy_order() -> None:
    late = _plugin("late", 'registry.add("late", "acme_late.resource:R")', "(trylast=True)")
    early = _plugin("early", 'registry.add("early", "acme_early.resource:R")', "(tryfirst=True)")
    plain = _plugin("plain", 'registry.add("plain", "acme_plain.resource:R")')
    order: list[str] = []
    for module in (late, early, plain):
        setattr(module, "order", order)  # noqa: B010 - the plugin modules' shared record
    registry, calls = _registry(("late", late), ("early", early), ("plain", plain))
    # one call of each hook, seen by pluggy's monitoring
    assert calls == ["remotejobs_register_backends", "remotejobs_register_dataset_sources",
                     "remotejobs_register_launchers"]
    assert order == ["early", "plain", "late"]
    assert registry.names() == ["early", "late", "plain"]
    info = registry.info("early")
    assert (info.plugin, info.distribution) == ("early", "acme-early")


def test_a_failing_hook_is_isolated_and_reported() -> None:
    good = _plugin("good", 'registry.add("good", "acme_good.resource:R")', "(tryfirst=True)")
    bad = _plugin("bad", 'registry.add("bad-one", "acme_bad.resource:R"); raise RuntimeError("needs libfoo")')
    registry, _ = _registry(("good", good), ("bad", bad))
    assert registry.names() == ["good"]  # the failed plugin's half-registration is gone
    assert set(registry.failures) == {"bad"} and "libfoo" in repr(registry.failures["bad"].error)
    assert registry.failures["bad"].distribution == "acme-bad"
    # the good plugin ran before the bad one and again in the repeated call: no false conflict
    assert getattr(good, "order") == ["good", "good"] and not registry.conflicts  # noqa: B009


def test_a_name_two_plugins_register_is_refused_when_opened() -> None:
    one = _plugin("one", 'registry.add("shared", "acme_one.resource:R"); registry.add("one", "acme_one.r:R")')
    two = _plugin("two", 'registry.add("shared", "acme_two.resource:R")')
    registry, _ = _registry(("one", one), ("two", two))
    assert registry.names() == ["one"] and "shared" in registry
    with pytest.raises(BackendConflictError) as err:
        registry.load("shared")
    assert "acme-one" in str(err.value) and "acme-two" in str(err.value)
    assert isinstance(err.value, remotejobs.RemoteJobsError)


def test_registration_mistakes_are_plugin_errors() -> None:
    twice = _plugin("twice", 'registry.add("twice", "acme_twice.r:R"); registry.add("twice", "acme_twice.r:R")')
    badname = _plugin("badname", 'registry.add("Bad_Name", "acme_badname.r:R")')
    registry, _ = _registry(("twice", twice), ("badname", badname))
    assert registry.names() == []
    for name, text in (("twice", "twice"), ("badname", "kebab-case")):
        error = registry.failures[name].error
        assert isinstance(error, PluginError) and text in str(error)


def test_the_process_registry_is_public() -> None:
    assert "local" in remotejobs.get_registry().names()
    assert remotejobs.get_registry() is remotejobs.get_registry()
