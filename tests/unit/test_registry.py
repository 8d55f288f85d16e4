"""The provider registry: built-ins, programmatic registration, entry points."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from secretwire import (
    ConfigError,
    SecretManager,
    available_providers,
    get_provider_class,
    load_settings,
    register_provider,
    unregister_provider,
)
from secretwire.providers.memory import MemoryProvider

PLUGIN = """
from secretwire.providers.memory import MemoryProvider


class PluginProvider(MemoryProvider):
    name = "plugin"
"""


def test_builtins_are_listed_without_importing_them() -> None:
    assert {"env", "file", "memory"} <= set(available_providers())


def test_unknown_provider_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown provider 'nope'"):
        get_provider_class("nope")


def test_programmatic_registration_wins_and_is_restored() -> None:
    class Custom(MemoryProvider):
        name = "custom"

    register_provider("custom", Custom)
    assert get_provider_class("custom") is Custom
    unregister_provider("custom")
    assert "custom" not in available_providers()


def test_registered_target_must_be_a_provider() -> None:
    register_provider("bogus", "secretwire.values:SecretValue")
    with pytest.raises(ConfigError, match="not name a SecretProvider"):
        get_provider_class("bogus")


def test_third_party_entry_point_is_discovered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real installed-distribution layout: a module plus a dist-info with entry points."""
    (tmp_path / "sw_plugin.py").write_text(PLUGIN)
    dist = tmp_path / "sw_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: sw-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[secretwire.providers]\nplugin = sw_plugin:PluginProvider\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "sw_plugin", raising=False)
    assert "plugin" in available_providers()
    settings_file = tmp_path / "secretwire.yaml"
    settings_file.write_text("environments: {dev: {provider: plugin}}\n")
    with SecretManager.from_settings(load_settings(settings_file)) as manager:
        assert isinstance(manager, SecretManager)
        assert manager.provider.name == "plugin"
