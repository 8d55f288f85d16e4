"""``secretwire run``: values injected as variables, files or stdin; the child's output
masked in every encoding down to 1-byte writes; no value in /proc/<child>/environ in
file and stdin modes; exit codes and signals passed through; bad input refused."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from secretwire import ConfigError, Redactor, ResolutionError, SecretValue
from secretwire.dotenv import DotenvError
from secretwire.injection import RunOptions, Variable, run
from secretwire.testing import CANARY, assert_no_leak
from tests.encodings import recovered, samples

ROOT = Path(__file__).resolve().parents[2]
CANARY_B64 = "k~~?>>?tok&=/ \u00fc-7d1e"
VALUES = {"DB_PASSWORD": CANARY, "API_KEY": CANARY_B64}
TEMPLATE = "DB_PASSWORD=${secret:db/password}\nAPI_KEY=${secret:api/key}\nPLAIN=hello\n"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="/proc and POSIX signals")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    settings = {
        "environments": {
            "dev": {
                "provider": "memory",
                "options": {"secrets": {"db/password": CANARY, "api/key": CANARY_B64}},
            }
        }
    }
    (tmp_path / "secretwire.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    (tmp_path / "app.env").write_text(TEMPLATE, encoding="utf-8")
    return tmp_path


def secretwire(project: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """``secretwire ARGS`` in a child process, in ``project``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    env.pop("SECRETWIRE_CONFIG", None)
    command = [sys.executable, "-m", "secretwire", *args]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, check=False)


WRITER = """
import os, sys, time
from tests.encodings import samples
size = int(sys.argv[1])
for variable in ("DB_PASSWORD", "API_KEY"):
    for label, text in samples(os.environ[variable]).items():
        data = f"{variable} {label}: {text}\\n".encode()
        for fd in (1, 2):
            for at in range(0, len(data), size):
                os.write(fd, data[at : at + size])
                time.sleep(0.0002)
"""


@pytest.mark.parametrize("size", [1, 2, 3])
def test_every_encoding_is_masked_in_the_output_of_small_writes(project: Path, size: int) -> None:
    command = ["run", "--env-file", "app.env", "--", sys.executable, "-c", WRITER, str(size)]
    result = secretwire(project, *command)
    assert result.returncode == 0, result.stderr
    out, err = result.stdout.decode(), result.stderr.decode()
    for variable, value in VALUES.items():
        for label in samples(value):
            line = _line(out, f"{variable} {label}: ")
            assert "**********" in line, label
            assert recovered(line, value) == [], label
        assert recovered(out, value) == [] and recovered(err, value) == []
    # The control: unmasked, every sample shows its value.
    unmasked = secretwire(project, "run", "--no-mask", *command[1:]).stdout.decode()
    for variable, value in VALUES.items():
        for label in samples(value):
            assert recovered(_line(unmasked, f"{variable} {label}: "), value), label


def _line(output: str, start: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(start))


CHILD = """
import hashlib, json, os, stat, sys, time
state = sys.argv[1]
mode = sys.argv[2]
if mode == "files":
    folder = os.environ["SECRETWIRE_SECRETS_DIR"]
    value = open(os.environ["DB_PASSWORD_FILE"], "rb").read()
    modes = {name: oct(stat.S_IMODE(os.stat(os.path.join(folder, name)).st_mode))
             for name in os.listdir(folder)}
    info = {"folder": folder, "folder_mode": oct(stat.S_IMODE(os.stat(folder).st_mode)),
            "modes": modes}
elif mode == "stdin":
    info = {}
    value = json.loads(sys.stdin.read())["DB_PASSWORD"].encode()
else:
    info = {}
    value = os.environ["DB_PASSWORD"].encode()
info["sha256"] = hashlib.sha256(value).hexdigest()
info["plain"] = os.environ.get("PLAIN")
info["pid"] = os.getpid()
with open(state + ".tmp", "w") as handle:
    json.dump(info, handle)
os.rename(state + ".tmp", state)
while not os.path.exists(state + ".done"):
    time.sleep(0.01)
"""


def run_and_read_environ(project: Path, mode: str) -> tuple[dict[str, object], bytes, int]:
    """Start ``run`` in ``mode``; while the child waits, read /proc/<child>/environ."""
    state = project / f"state-{mode}.json"
    flag = [] if mode == "env" else [f"--{mode}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "secretwire", "run", *flag, "--env-file", "app.env", "--"]
    proc = subprocess.Popen(
        [*command, sys.executable, "-c", CHILD, str(state), mode], cwd=project, env=env
    )
    deadline = time.monotonic() + 60
    while not state.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    info = json.loads(state.read_text())
    environ = Path(f"/proc/{info['pid']}/environ").read_bytes()
    Path(f"{state}.done").touch()
    return info, environ, proc.wait(timeout=60)


@pytest.mark.parametrize("mode", ["files", "stdin"])
def test_file_and_stdin_modes_keep_every_value_out_of_the_childs_environ(
    project: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An inherited variable holding a served value is left out too.
    monkeypatch.setenv("INHERITED_COPY", f"x{CANARY}y")
    info, environ, code = run_and_read_environ(project, mode)
    assert code == 0
    assert info["sha256"] == hashlib.sha256(CANARY.encode()).hexdigest()  # it got the value
    assert info["plain"] == "hello"  # a variable that holds no secret stays a variable
    text = environ.decode("utf-8", "surrogateescape")
    for value in (CANARY, CANARY_B64):
        assert value.encode() not in environ
        assert recovered(text, value) == []
    assert b"INHERITED_COPY=" not in environ
    if mode == "files":
        assert info["folder_mode"] == "0o700"
        assert info["modes"] == {"DB_PASSWORD": "0o600", "API_KEY": "0o600"}
        assert not Path(str(info["folder"])).exists()  # removed when the child exited


def test_env_mode_puts_values_in_the_environ_the_control(project: Path) -> None:
    info, environ, code = run_and_read_environ(project, "env")
    assert code == 0 and CANARY.encode() in environ
    assert info["sha256"] == hashlib.sha256(CANARY.encode()).hexdigest()


def test_exit_code_and_signal_pass_through_and_files_go_on_a_signal(project: Path) -> None:
    code = "import sys; sys.exit(7)"
    assert (
        secretwire(
            project, "run", "--env-file", "app.env", "--", sys.executable, "-c", code
        ).returncode
        == 7
    )
    state = project / "folder.txt"
    child = (
        "import os, sys, time; open(sys.argv[1] + '.tmp', 'w').write("
        "os.environ['SECRETWIRE_SECRETS_DIR']); os.rename(sys.argv[1] + '.tmp', sys.argv[1]); "
        "time.sleep(60)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "secretwire", "run", "--files", "--env-file", "app.env", "--",
         sys.executable, "-c", child, str(state)],
        cwd=project, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not state.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    folder = Path(state.read_text())
    assert (folder / "DB_PASSWORD").is_file()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == -signal.SIGTERM  # the child's end, passed on
    assert not folder.exists()


def test_bad_input_is_a_typed_error_naming_file_and_line_and_nothing_runs(project: Path) -> None:
    marker = project / "ran"
    touch = ["--", sys.executable, "-c", f"open({str(marker)!r}, 'w')"]
    (project / "bad.env").write_text("A=1\nB=${secret:db/password\n", encoding="utf-8")
    (project / "missing.env").write_text("A=1\n\nB=${secret:no/such}\n", encoding="utf-8")
    (project / "broken.env").write_text('A=1\nB="open\n', encoding="utf-8")
    cases = {
        ("run", "--env-file", "app.env"): "run needs a command",
        ("run", "--env-file", "app.env", "--"): "run needs a command",
        ("run", *touch): "run needs a template",
        ("run", "--env-file", "bad.env", *touch): "in bad.env: B (line 2): ${secret:db/password",
        ("run", "--env-file", "missing.env", *touch): "missing.env: B (line 3): ${secret:no/such}",
        ("run", "--env-file", "broken.env", *touch): "broken.env:2: B: the double quote is not",
        ("run", "--env-file", "nope.env", *touch): "nope.env: cannot read the file",
    }  # fmt: skip
    for args, message in cases.items():
        result = secretwire(project, *args)
        err = result.stderr.decode()
        assert result.returncode == 1, args
        assert err.startswith("secretwire: error:") and message in err, err
        assert "Traceback" not in err and CANARY not in err
    assert not marker.exists()


def test_errors_from_the_library_hold_no_value_in_any_frame(tmp_path: Path) -> None:
    variables = [Variable("DB_PASSWORD", SecretValue(CANARY), True, "app.env:1")]
    redactor = Redactor()
    redactor.add(CANARY)
    for mode in ("env", "files", "stdin"):
        with pytest.raises(ConfigError, match="cannot run") as info:
            run(["/no/such/command"], variables, redactor, RunOptions(mode=mode))
        assert_no_leak(info.value, CANARY)
    assert not list(tmp_path.iterdir())
    with pytest.raises(ConfigError, match="unknown mode"):
        RunOptions(mode="argv")


def test_template_errors_are_typed(project: Path) -> None:
    from secretwire import SecretManager
    from secretwire.injection import template_variables
    from secretwire.providers.memory import MemoryProvider

    (project / "x.env").write_text("OK=${secret:a}\nNO=${secret:b\n", encoding="utf-8")
    with SecretManager(MemoryProvider({"a": CANARY})) as manager:
        with pytest.raises(ResolutionError) as info:
            template_variables(manager, env_files=[project / "x.env"])
        assert [f.location for f in info.value.failures] == ["NO (line 2)"]
        assert_no_leak(info.value, CANARY)
        (project / "y.env").write_text("1X=a\n", encoding="utf-8")
        with pytest.raises(DotenvError) as bad:
            template_variables(manager, env_files=[project / "y.env"])
        assert (bad.value.source, bad.value.line) == (str(project / "y.env"), 1)
        config = project / "app.yaml"
        config.write_text("database:\n  password: ${secret:a}\n  host: db\n", encoding="utf-8")
        found = template_variables(manager, config_files=[config])
        assert [(v.key, v.secret, v.value.reveal()) for v in found] == [
            ("DATABASE_PASSWORD", True, CANARY)
        ]
