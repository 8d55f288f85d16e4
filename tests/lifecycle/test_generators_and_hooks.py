"""Generators (built-in, by entry point, by import path) and hooks (callables and
commands: values on stdin only, bounded by a timeout), and their bad settings."""

from __future__ import annotations

import base64
import json
import os
import string
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from secretwire import ConfigError, SecretValue
from secretwire.lifecycle import HookCall, JsonField, Password, generator_from_spec, hook_from_spec
from secretwire.lifecycle.hooks import HookFailure
from secretwire.testing import CANARY, assert_no_leak

HERE = Path(__file__).parent


def test_password_has_every_class_and_none_excluded() -> None:
    for _ in range(50):
        value = Password(length=12, exclude="0O1lI").__call__().reveal()
        assert len(value) == 12
        assert not set(value) & set("0O1lI")
        for chars in (string.ascii_lowercase, string.ascii_uppercase, string.digits):
            assert set(value) & set(chars)
    assert set(Password(length=8, classes=["digits"])().reveal()) <= set(string.digits)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "password", "length": 2}, "length must be an integer from 4"),
        ({"type": "password", "classes": ["emoji"]}, "unknown character class 'emoji'"),
        (
            {"type": "password", "classes": ["digits"], "exclude": string.digits},
            "no character left",
        ),
        ({"type": "hex", "bytes": 0}, "bytes must be an integer from 1 to 1024"),
        ({"type": "password", "lenght": 9}, "unexpected keyword argument 'lenght'"),
        ({"type": "no-such-generator"}, "unknown generator 'no-such-generator'"),
        (
            {"type": "no_such_module:make"},
            "cannot load generator 'no_such_module:make' (ModuleNotFoundError)",
        ),
        ({"length": 9}, "must be a generator name or a mapping with 'type'"),
    ],
)
def test_bad_generator_settings_name_the_key(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        generator_from_spec(spec, source="s.yaml", key="secrets.db.rotation.generator")
    assert str(info.value).startswith("s.yaml: secrets.db.rotation.generator")
    assert message in str(info.value)


def test_random_bytes_and_json_field() -> None:
    hex_value = generator_from_spec({"type": "hex", "bytes": 16}, source=None, key="g")(None)
    assert len(bytes.fromhex(hex_value.reveal())) == 16
    url = generator_from_spec("base64url", source=None, key="g")(None).reveal()
    assert len(base64.urlsafe_b64decode(url + "=" * (-len(url) % 4))) == 32
    spec = {"type": "json", "field": "password", "generator": {"type": "hex", "bytes": 4}}
    rotate = generator_from_spec(spec, source=None, key="g")
    new = json.loads(
        rotate(SecretValue('{"user": "app", "password": "old", "port": 5432}')).reveal()
    )
    assert new["user"] == "app" and new["port"] == 5432 and len(new["password"]) == 8


def test_json_field_refuses_a_value_that_is_not_an_object_without_showing_it() -> None:
    from secretwire.lifecycle.generators import GeneratorError

    with pytest.raises(GeneratorError) as info:
        JsonField("password")(SecretValue(CANARY))
    assert_no_leak(info.value, CANARY)


def make_constant(text: str = "from-a-plugin") -> Any:
    """A generator factory for the import-path and entry-point tests."""
    return lambda current: SecretValue(text)


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A distribution installed on ``sys.path`` (a real ``.dist-info`` that
    importlib.metadata finds) whose entry points name this module's factories."""
    info = tmp_path / "swt_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: swt-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[secretwire.generators]\nconstant = {__name__}:make_constant\n\n"
        f"[secretwire.hooks]\nrecord = {__name__}:record_hook\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))


RECORDED: list[str] = []


def record_hook(call: HookCall) -> None:
    """A hook for the import-path and entry-point tests."""
    RECORDED.append(f"{call.step} {call.name}")


@pytest.mark.usefixtures("plugin")
def test_generators_by_import_path_and_entry_point() -> None:
    spec = {"type": f"{__name__}:make_constant", "text": "x-1"}
    assert generator_from_spec(spec, source=None, key="g")(None).reveal() == "x-1"
    assert generator_from_spec("constant", source=None, key="g")(None).reveal() == "from-a-plugin"


@pytest.mark.usefixtures("plugin")
def test_hooks_by_import_path_and_entry_point() -> None:
    RECORDED.clear()
    for spec in ({"python": f"{__name__}:record_hook"}, {"entry_point": "record"}):
        hook = hook_from_spec(spec, base_dir=None, source=None, key="h")
        assert hook is not None
        hook.run(_call())
    assert RECORDED == ["apply db/password", "apply db/password"]


# -- hooks ------------------------------------------------------------------------------


def _call(step: str = "apply") -> HookCall:
    return HookCall(
        "db/password", step, SecretValue(f"{CANARY}-old"), SecretValue(f"{CANARY}-new"), "rot-1"
    )


def test_a_command_hook_reads_the_values_on_stdin_only(tmp_path: Path) -> None:
    script = tmp_path / "record.py"
    script.write_text(
        "import json, os, sys\n"
        "seen = {'argv': sys.argv, 'environ': dict(os.environ), 'stdin': json.load(sys.stdin)}\n"
        f"open({str(tmp_path / 'seen.json')!r}, 'w').write(json.dumps(seen))\n"
    )
    hook = hook_from_spec(
        {"command": [sys.executable, str(script)]}, base_dir=tmp_path, source=None, key="h"
    )
    assert hook is not None
    hook.run(_call())
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen["stdin"] == {
        "name": "db/password", "step": "apply", "rotation": "rot-1", "revert": False,
        "old": f"{CANARY}-old", "new": f"{CANARY}-new",
    }  # fmt: skip
    assert CANARY not in json.dumps(seen["argv"]) + json.dumps(seen["environ"])


def test_a_failing_command_is_reported_by_exit_code(tmp_path: Path) -> None:
    hook = hook_from_spec({"command": "false"}, base_dir=tmp_path, source=None, key="h")
    assert hook is not None
    with pytest.raises(HookFailure, match="exited with code 1") as info:
        hook.run(_call())
    assert_no_leak(info.value, CANARY)


def test_a_hanging_command_is_killed_at_its_timeout(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    script = f"echo $$ > {pid_file}; sleep 60 & wait"
    spec = {"command": ["sh", "-c", script], "timeout": "1s"}
    hook = hook_from_spec(spec, base_dir=tmp_path, source=None, key="h")
    assert hook is not None
    started = time.monotonic()
    with pytest.raises(HookFailure, match="timed out after 1 s"):
        hook.run(_call())
    assert time.monotonic() - started < 10
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):  # the whole process group is gone
        os.kill(pid, 0)


def test_a_hanging_callable_is_reported_at_its_timeout() -> None:
    hook = hook_from_spec(lambda call: time.sleep(5), base_dir=None, source=None, key="h")
    assert hook is not None
    hook.timeout = 0.2
    with pytest.raises(HookFailure, match=r"timed out after 0\.2 s"):
        hook.run(_call())


def test_a_raising_callable_is_reported_by_type_only() -> None:
    def login(call: HookCall) -> None:
        raise ValueError(f"bad password {call.new.reveal()}")

    hook = hook_from_spec(login, base_dir=None, source=None, key="h")
    assert hook is not None
    with pytest.raises(HookFailure, match="raised ValueError") as info:
        hook.run(_call())
    assert_no_leak(info.value, CANARY)


@pytest.mark.parametrize(
    ("spec", "key", "message"),
    [
        (
            {"python": "no_such_mod:fn"},
            "h.python",
            "cannot load hook 'no_such_mod:fn' (ModuleNotFoundError)",
        ),
        ({"entry_point": "nope"}, "h.entry_point", "unknown hook 'nope'"),
        ({"python": "os"}, "h.python", "python must be module:function"),
        ({"python": "os:sep"}, "h.python", "hook 'os:sep' is not callable"),
        ({"command": []}, "h.command", "command must be a command line or a list of strings"),
        ({"command": "x", "timeout": "soon"}, "h.timeout", "must be a duration"),
        ({"command": "x", "python": "a:b"}, "h", "needs exactly one of"),
        ({"shell": "x"}, "h", "unknown key 'shell'"),
        ("x.sh", "h", "must be a mapping"),
    ],
)
def test_bad_hook_settings_name_the_key(spec: Any, key: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        hook_from_spec(spec, base_dir=None, source="s.yaml", key="h")
    assert info.value.key == key
    assert message in str(info.value)
