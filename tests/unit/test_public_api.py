"""The curated public API, and packaging that keeps the core light."""

from __future__ import annotations

import pickle
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import pytest

import secretwire

ROOT = Path(__file__).resolve().parents[2]


def test_all_is_complete_and_exact() -> None:
    listed = set(secretwire.__all__) - {"__version__"}
    for name in secretwire.__all__:
        assert hasattr(secretwire, name), name  # loads each name's module
    public = {
        name
        for name, value in vars(secretwire).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == listed
    assert {name for name in dir(secretwire) if not name.startswith("_")} >= listed
    with pytest.raises(AttributeError, match="no_such_name"):
        secretwire.no_such_name  # noqa: B018 - the attribute access is the test


def _python(code: str) -> str:
    """What a fresh interpreter running ``code`` prints (the imports it makes are its own)."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout


def test_import_loads_only_what_is_used() -> None:
    """``import secretwire`` loads no submodule with a cost (YAML, TOML, threads,
    cryptography, the settings machinery); the first use of a name loads its module."""
    code = (
        "import sys, secretwire;"
        "loaded = set(sys.modules);"
        "print(sorted(m for m in loaded if m.startswith('secretwire.')));"
        "heavy = {'yaml', 'tomllib', 'tomli', 'concurrent', 'cryptography', 'logging', 'json',"
        " 'dataclasses', 'threading'};"
        "print(sorted(heavy & {m.split('.')[0] for m in loaded}));"
        "secretwire.SecretValue;"
        "print('secretwire.values' in sys.modules, 'secretwire.settings' in sys.modules)"
    )
    out = _python(code).splitlines()
    assert out == ["['secretwire._exports', 'secretwire._version']", "[]", "True False"]


def test_importing_the_manager_loads_only_what_a_manager_needs() -> None:
    """``from secretwire import SecretManager`` (start-up time: docs/performance.md)
    loads neither the settings machinery nor the resolver, YAML, cryptography or the
    declared-secrets inventory; those load when a manager uses them."""
    code = (
        "import sys; from secretwire import SecretManager;"
        "print(sorted(m for m in sys.modules if m.startswith(('secretwire.', 'yaml',"
        " 'cryptography', 'hashlib'))))"
    )
    out = _python(code)
    loaded = set(eval(out))  # noqa: S307 - our own printed list
    unused = {
        "secretwire.settings",
        "secretwire.resolver",
        "secretwire.lifecycle.inventory",
        "secretwire.failover",
        "secretwire.governance",
        "secretwire.l2",
        "secretwire.configfile",
        "yaml",
        "cryptography",
        "hashlib",
    }
    assert loaded & unused == set()
    assert "secretwire.manager" in loaded


def test_exception_tree_and_builtins() -> None:
    tree = {
        secretwire.SecretNotFound: LookupError,
        secretwire.AccessDenied: PermissionError,
        secretwire.ProviderUnavailable: ConnectionError,
        secretwire.UnsupportedOperation: NotImplementedError,
        secretwire.ReferenceSyntaxError: ValueError,
        secretwire.InvalidSecret: ValueError,
    }
    for error, builtin in tree.items():
        assert issubclass(error, secretwire.SecretwireError)
        assert issubclass(error, builtin)
    distinct = [
        secretwire.SecretNotFound,
        secretwire.AccessDenied,
        secretwire.ProviderUnavailable,
        secretwire.Conflict,
    ]
    for error in distinct:
        assert issubclass(error, secretwire.ProviderError)
        assert all(not issubclass(error, other) for other in distinct if other is not error)
    err = secretwire.AccessDenied(name="db/pw", provider="vault")
    assert str(err) == "access denied: secret 'db/pw' in provider 'vault'"


def test_errors_pickle_round_trip() -> None:
    err = secretwire.SecretNotFound(name="a", provider="p", version="2")
    back = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own bytes
    assert type(back) is secretwire.SecretNotFound
    assert (back.name, back.provider, back.version, str(back)) == ("a", "p", "2", str(err))


def test_core_import_pulls_no_cloud_sdk_or_framework() -> None:
    code = (
        "import sys, secretwire, secretwire.adapters;"
        "heavy = {'hvac', 'boto3', 'botocore', 'azure', 'pydantic', 'pydantic_settings',"
        " 'dynaconf', 'omegaconf', 'pytest', 'hypothesis'};"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    out = _python(code)
    assert out.strip() == "[]"


def test_adapters_package_is_importable_as_part_of_secretwire() -> None:
    import secretwire.adapters

    assert secretwire.adapters.__name__ == "secretwire.adapters"
    with pytest.raises(ImportError, match=r"secretwire\[nosuchextra\]"):
        secretwire.adapters.require("no_such_framework_module", "nosuchextra")


@pytest.mark.slow
def test_wheel_ships_core_adapters_and_py_typed(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("secretwire-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "secretwire/__init__.py",
        "secretwire/py.typed",
        "secretwire/adapters/__init__.py",
        "secretwire/providers/localfile.py",
        "secretwire/testing/__init__.py",
    ):
        assert expected in names
    assert not any(n.startswith(("src/", "adapters/", "tests/")) for n in names)
    metadata = next(n for n in names if n.endswith("METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    requires = [line for line in text.splitlines() if line.startswith("Requires-Dist:")]
    core = [r for r in requires if "extra ==" not in r]
    assert all(
        any(pkg in r.lower() for pkg in ("cachetools", "cryptography", "pyyaml", "tomli"))
        for r in core
    ), core
