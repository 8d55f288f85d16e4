"""``secretwire scan``: planted canaries found in every encoding with no miss, in files
and in git history; the scanner's state holds no plaintext; exit codes; the hook."""

from __future__ import annotations

import gc
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from secretwire import SecretValue
from secretwire.cli import main
from secretwire.leakscan import Fingerprints, scan_paths
from secretwire.masking import encoded_forms
from secretwire.testing import CANARY
from tests.encodings import encoding_of, recovered, samples

ROOT = Path(__file__).resolve().parents[2]
CANARY_B64 = "k~~?>>?tok&=/ \u00fc-7d1e"
MULTILINE = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n-----END KEY-----"
SECRETS = {"db/password": CANARY, "api/key": CANARY_B64, "tls/key": MULTILINE, "pin": "12"}


def plant(folder: Path) -> dict[Path, tuple[str, str]]:
    """One file per sample (value, encoding): the sample on line 3. Returns file ->
    (secret name, label)."""
    folder.mkdir(parents=True, exist_ok=True)
    planted = {}
    for name in ("db/password", "api/key"):
        for label, text in samples(SECRETS[name]).items():
            path = folder / f"{name.replace('/', '-')}-{label}.txt"
            path.write_text(f"first line\nsecond line\n{text}\nlast line\n", encoding="utf-8")
            planted[path] = (name, label)
    return planted


def fingerprints() -> Fingerprints:
    found = Fingerprints()
    for name, value in SECRETS.items():
        found.add(name, SecretValue(value))
    return found


def test_planted_canaries_are_found_in_every_encoding_with_no_miss(tmp_path: Path) -> None:
    planted = plant(tmp_path / "plant")
    (tmp_path / "plant" / "clean.txt").write_text("nothing here\n" * 50, encoding="utf-8")
    problems: list[str] = []
    findings = list(scan_paths(fingerprints(), [str(tmp_path / "plant")], problems))
    assert problems == []
    by_file: dict[str, set[tuple[int, str, str]]] = {}
    for finding in findings:
        by_file.setdefault(finding.path, set()).add((finding.line, finding.name, finding.encoding))
    misses = []
    for path, (name, label) in planted.items():
        found = by_file.get(str(path), set())
        encodings = {encoding for line, who, encoding in found if line == 3 and who == name}
        expected = {encoding_of(label)}
        text = samples(SECRETS[name])[label]
        if "raw" in recovered(text, SECRETS[name]):
            expected.add("raw")  # a JSON text with the value unescaped holds it raw
        if label.startswith("base64url") and not {"-", "_"} & set(text):
            expected.add("base64")  # the same text in both alphabets: named base64
        if not encodings & expected:
            misses.append(label)
        assert {line for line, _, _ in found} == {3}, path  # nothing anywhere else
    assert misses == []
    assert len(planted) == 2 * len(samples(CANARY))
    assert str(tmp_path / "plant" / "clean.txt") not in by_file


def reachable(root: object) -> list[object]:
    """Every object ``root`` holds, through containers and instance attributes."""
    seen: dict[int, object] = {}
    stack = [root]
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, (type, type(sys))) or callable(item):
            continue
        seen[id(item)] = item
        stack.extend(gc.get_referents(item))
    return list(seen.values())


def test_the_scanner_state_holds_no_plaintext() -> None:
    scanner = fingerprints()
    texts = [item for item in reachable(scanner) if isinstance(item, (str, bytes))]
    assert texts  # names, encodings, HMACs, keys
    for value in (CANARY, CANARY_B64, MULTILINE):
        forms = list(encoded_forms(value))
        for text in texts:
            plain = text if isinstance(text, str) else text.decode("latin-1")
            assert not any(form in plain for form in forms)
            assert value.encode() not in (text if isinstance(text, bytes) else text.encode())
        state = pickle.dumps(scanner)
        assert not any(form.encode() in state for form in forms)
    assert CANARY not in repr(scanner)
    assert scanner.short_names == {"pin"}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SECRETWIRE_CONFIG", raising=False)
    settings = {"environments": {"dev": {"provider": "memory", "options": {"secrets": SECRETS}}}}
    (tmp_path / "secretwire.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    return tmp_path


def test_the_command_reports_file_line_and_name_and_exits_1(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    planted = plant(project / "plant")
    (project / "clean").mkdir()
    (project / "clean" / "a.txt").write_text("ok\n", encoding="utf-8")
    assert main(["scan", "clean"]) == 0
    assert capsys.readouterr().err == (
        "secretwire: not scanned for, shorter than 4 characters: pin\n"
        "no secret value found (3 secret(s) looked for)\n"
    )
    assert main(["scan", "plant", "clean"]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len({line.split(":")[0] for line in lines}) == len(planted)
    assert "plant/db-password-hex-lower.txt:3: secret 'db/password' (hex)" in lines
    assert CANARY not in captured.out + captured.err
    assert main(["scan", "no-such-file"]) == 1
    assert "no-such-file: no such file or folder" in capsys.readouterr().err


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    return subprocess.run(
        ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_git_history_is_scanned(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = project / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    sample = samples(CANARY)["base64-after-5-bytes"]
    (repo / "app.cfg").write_text(f"a = 1\nauth = {sample}\n", encoding="utf-8")
    (repo / "key.pem").write_text(f"x\n{MULTILINE}\n", encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "leak")
    leak = git(repo, "rev-parse", "HEAD")
    (repo / "app.cfg").write_text("a = 1\nauth = ${secret:db/password}\n", encoding="utf-8")
    (repo / "key.pem").unlink()
    git(repo, "commit", "-qam", "fix")
    assert main(["scan", "repo"]) == 0
    capsys.readouterr()
    assert main(["scan", "--git", "repo"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{leak[:12]}:app.cfg:2: secret 'db/password' (base64)",
        f"{leak[:12]}:key.pem:2: secret 'tls/key' (raw)",
    ]
    assert main(["scan", "--git", str(project / "plant-none")]) == 1
    assert "git" in capsys.readouterr().err


def test_the_pre_commit_hook_runs_the_scan_on_the_files_given() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [hook["id"] for hook in hooks] == ["secretwire-scan"]
    hook = hooks[0]
    assert hook["entry"] == "secretwire scan" and hook["pass_filenames"] is True
    assert hook["language"] == "python"
