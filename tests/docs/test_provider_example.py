"""The example provider in ``docs/writing-a-provider.md`` is real: the block marked
``<!-- module: dirsecrets -->`` is loaded as the module ``dirsecrets`` and passes the
shipped conformance suite, as the page says it does."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import ClassVar

import pytest

from secretwire import ConfigError, InvalidSecret, ProviderUnavailable, SecretProvider
from secretwire.testing import CANARY, ProviderContract, assert_no_leak

PAGE = Path(__file__).resolve().parents[2] / "docs" / "writing-a-provider.md"
_BLOCK = re.compile(r"<!-- module: dirsecrets -->\n```python\n(.*?)\n```", re.DOTALL)


def _load() -> types.ModuleType:
    found = _BLOCK.search(PAGE.read_text(encoding="utf-8"))
    assert found, "the example block is marked <!-- module: dirsecrets -->"
    module = types.ModuleType("dirsecrets")
    module.__file__ = str(PAGE)
    sys.modules["dirsecrets"] = module
    exec(compile(found.group(1), str(PAGE), "exec"), module.__dict__)  # noqa: S102 - our docs
    return module


dirsecrets = _load()
DirectoryProvider = dirsecrets.DirectoryProvider


class TestDirectoryProvider(ProviderContract):
    unsupported: ClassVar[dict[str, str]] = {}

    @pytest.fixture
    def provider(self, tmp_path: Path) -> SecretProvider:
        return DirectoryProvider(tmp_path)  # type: ignore[no-any-return]

    def seed(self, provider: SecretProvider, name: str, value: str) -> None:
        path = provider.root / name  # type: ignore[attr-defined]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value, encoding="utf-8")


def test_the_example_is_built_from_the_settings_options(tmp_path: Path) -> None:
    provider = DirectoryProvider.from_options({"path": "mounted"}, base_dir=tmp_path)
    assert provider.root == tmp_path / "mounted"
    with pytest.raises(ConfigError, match=r"unknown option for provider 'dir' \(known: path\)"):
        DirectoryProvider.from_options({"pth": "x"}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match="required"):
        DirectoryProvider.from_options({}, base_dir=tmp_path)


def test_the_example_refuses_paths_and_leaks_no_file_bytes(tmp_path: Path) -> None:
    provider = DirectoryProvider(tmp_path)
    for name in ("/etc/passwd", "a/../../b", "a//b"):
        with pytest.raises(InvalidSecret):
            provider.get(name)
    (tmp_path / "binary").write_bytes(CANARY.encode() + b"\xff")
    with pytest.raises(ProviderUnavailable, match="cannot read the file") as info:
        provider.get("binary")
    assert info.value.__context__ is None
    assert_no_leak(info.value, CANARY)
