"""The console transcripts in the docs are real: each marked block is run, command by
command, and its output compared with what the docs show.

Marking, in any ``docs/*.md`` or ``README.md`` (HTML comments, invisible on GitHub),
on the line right before a fenced block:

- ``<!-- console: SESSION [SHOWN_DIR] -->`` before a ```` ```console ```` block: run its
  ``$ `` lines with bash, in order, in SESSION's scratch folder (one per session; the
  blocks of a session must be in one file and run in document order). Each command's
  stdout and stderr together must equal the lines shown under it. Where the docs show
  the folder as SHOWN_DIR (``/tmp/app``), the scratch folder's path is written so.
- ``<!-- file: SESSION NAME -->`` before any fenced block: that block's text is the
  file NAME in SESSION's folder before the first command runs.

Unmarked blocks are illustrations and are left alone. Times (``2026-11-29T13:16:43...``),
days (``2026-11-29``) and latencies (``in 2.0 ms``) may differ.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([*ROOT.glob("docs/**/*.md"), ROOT / "README.md"])
MARKER = re.compile(r"<!--\s*(console|file):\s*(\S+)(?:\s+(\S+))?\s*-->")
VARYING = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z)?"), "<TIME>"),
    (re.compile(r" in \d+(?:\.\d+)? ms"), " in <N> ms"),
    (re.compile(r"\b\d{4}-\d\d-\d\d\b"), "<DATE>"),  # a day (status tables)
]


@dataclass
class Command:
    text: str
    expected: list[str]
    where: str  # file:line, for failure messages


@dataclass
class Session:
    name: str
    shown_dir: str | None = None
    doc: Path | None = None
    commands: list[Command] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)


def marked_blocks(doc: Path) -> list[tuple[str, str, str | None, list[str], int]]:
    """(kind, session, argument, body lines, first body line number) of each marked block."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    found = []
    pending: re.Match[str] | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        marker = MARKER.fullmatch(line.strip())
        if marker:
            pending = marker
        elif line.lstrip().startswith("```"):
            indent = len(line) - len(line.lstrip())
            end = index + 1
            while not lines[end].lstrip().startswith("```"):
                end += 1
            if pending is not None:
                body = [text[indent:] for text in lines[index + 1 : end]]
                kind, session, argument = pending.groups()
                found.append((kind, session, argument, body, index + 2))
            pending = None
            index = end
        elif line.strip():
            pending = None  # a marker belongs to the block right after it
        index += 1
    return found


def sessions() -> dict[str, Session]:
    found: dict[str, Session] = {}
    for doc in DOCS:
        for kind, name, argument, body, first in marked_blocks(doc):
            session = found.setdefault(name, Session(name))
            if kind == "file":
                assert argument, f"{doc}:{first - 1}: <!-- file: SESSION NAME -->"
                session.files[argument] = "\n".join(body) + "\n"
                continue
            assert session.doc in (None, doc), f"session {name!r} spans two files"
            session.doc = doc
            session.shown_dir = argument or session.shown_dir
            where = doc.relative_to(ROOT)
            for number, line in enumerate(body, first):
                if line.startswith("$ "):
                    session.commands.append(Command(line[2:], [], f"{where}:{number}"))
                else:
                    assert session.commands, f"{where}:{number}: output before any '$ ' line"
                    session.commands[-1].expected.append(line)
    return found


SESSIONS = sessions()


def normalize(text: str) -> str:
    for pattern, replacement in VARYING:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.rstrip("\n").splitlines())


def test_the_cli_guide_and_the_readme_are_marked() -> None:
    assert {"cli", "readme"} <= set(SESSIONS)
    assert len(SESSIONS["cli"].commands) > 30


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_transcript(name: str, tmp_path: Path) -> None:
    session = SESSIONS[name]
    folder = tmp_path / (Path(session.shown_dir).name if session.shown_dir else name)
    folder.mkdir()
    for file_name, text in session.files.items():
        (folder / file_name).write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECRETWIRE_")}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONUNBUFFERED"] = "1"  # stdout and stderr interleave as on a terminal
    mismatches = []
    for command in session.commands:
        result = subprocess.run(
            ["bash", "-c", command.text],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            timeout=120,
            check=False,
        )
        actual = result.stdout.replace(str(folder.resolve()), session.shown_dir or str(folder))
        shown = normalize("\n".join(command.expected))
        if normalize(actual) != shown:
            mismatches.append(
                f"{command.where}: $ {command.text}\n--- the docs show:\n{shown}\n"
                f"--- it prints:\n{normalize(actual)}\n"
            )
    assert not mismatches, "\n".join(mismatches)


def test_markers_are_read(tmp_path: Path) -> None:
    doc = "\n".join(
        [
            "<!-- console: demo /tmp/x -->",
            "```console",
            "$ echo hi",
            "hi",
            "```",
            "",
            "<!-- file: demo a.yaml -->",
            "  ```yaml",
            "  a: 1",
            "  ```",
            "<!-- console: other -->",
            "text in between: the marker no longer applies",
            "```console",
            "$ echo no",
            "```",
        ]
    )
    path = tmp_path / "sample.md"
    path.write_text(doc, encoding="utf-8")
    assert marked_blocks(path) == [
        ("console", "demo", "/tmp/x", ["$ echo hi", "hi"], 3),
        ("file", "demo", "a.yaml", ["a: 1"], 9),
    ]
