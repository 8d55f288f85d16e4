"""Leak scanning with keyed fingerprints: find current secret values in files and history.

:class:`Fingerprints` is built from the values to look for and keeps **no plaintext**:
for each form of each value (raw, JSON-escaped, base64 and base64url at each offset,
URL-encoded, hex: :func:`secretwire.masking.encoded_forms`, the forms the log masking
uses) it keeps

- the HMAC-SHA256 of the form's UTF-8 bytes under a random per-process key, with the
  form's length, its secret's name and the encoding's name;
- an *anchor*: 20 bits of a keyed hash (Python's SipHash, keyed per process, over a
  second random key and the form's first 4 bytes).

:meth:`Fingerprints.scan` slides a 4-byte window over the data; where the window's
anchor is known it computes the HMAC of the ``length`` bytes there and compares it with
the form's. So each byte costs one short keyed hash (plus an HMAC at the rare anchor
hits), whatever the number of values, and a match is exact (a 256-bit MAC), never a
guess. Hashing every window of every form's length instead would cost one HMAC per
byte *per distinct length*; a plain rolling hash would need the plaintext to confirm.
What the state could tell someone who also had both keys: whether a guessed form is
right (as any hash would), and 20 bits of each form's first 4 bytes; without the keys,
nothing. Values shorter than :data:`~secretwire.masking.MIN_LENGTH` are not scanned
(:attr:`Fingerprints.short_names`).
"""

from __future__ import annotations

import bisect
import hmac
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError
from .masking import MIN_LENGTH, encoded_forms
from .values import SecretValue

__all__ = ["ANCHOR", "Finding", "Fingerprints", "scan_git", "scan_paths"]

#: Bytes of a form its anchor covers; every form of a scanned value is at least this long.
ANCHOR = 4
_ANCHOR_BITS = 0xFFFFF
#: Files larger than this are not read (reported as skipped).
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Finding:
    """A secret's value at ``path:line`` (in ``commit``, for history), in ``encoding``."""

    path: str
    line: int
    name: str
    encoding: str
    commit: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}"
        if self.commit:
            where = f"{self.commit[:12]}:{where}"
        return f"{where}: secret {self.name!r} ({self.encoding})"


class Fingerprints:
    """Keyed fingerprints of the forms of secret values (see the module docstring)."""

    def __init__(self) -> None:
        self._key = os.urandom(32)
        self._anchor_key = os.urandom(16)
        self._anchors: dict[int, list[int]] = {}
        self._forms: list[tuple[int, bytes, int]] = []  # (length, HMAC, label)
        self._labels: list[tuple[str, str]] = []  # (secret name, encoding)
        self._seen: set[tuple[str, str, bytes]] = set()  # (name, encoding, HMAC)
        self.short_names: set[str] = set()
        self.values = 0

    def add(self, name: str, value: SecretValue) -> bool:
        """Fingerprint every form of ``value`` (the secret ``name``'s); returns False,
        and records the name, for a value too short to be scanned."""
        if len(value.reveal()) < MIN_LENGTH:
            self.short_names.add(name)
            return False
        self.values += 1
        for form, encoding in encoded_forms(value.reveal()).items():
            data = form.encode("utf-8", "surrogatepass")
            digest = hmac.digest(self._key, data, "sha256")
            if (name, encoding, digest) in self._seen:
                continue
            self._seen.add((name, encoding, digest))
            self._labels.append((name, encoding))
            anchor = hash(self._anchor_key + data[:ANCHOR]) & _ANCHOR_BITS
            self._anchors.setdefault(anchor, []).append(len(self._forms))
            self._forms.append((len(data), digest, len(self._labels) - 1))
        return True

    def scan(self, data: bytes) -> Iterator[tuple[int, str, str]]:
        """``(offset, name, encoding)`` of each form found in ``data``."""
        anchors, forms, key, anchor_key = self._anchors, self._forms, self._key, self._anchor_key
        for at in range(len(data) - ANCHOR + 1):
            found = anchors.get(hash(anchor_key + data[at : at + ANCHOR]) & _ANCHOR_BITS)
            for index in found or ():
                length, digest, label = forms[index]
                window = data[at : at + length]
                if len(window) == length and hmac.compare_digest(
                    hmac.digest(key, window, "sha256"), digest
                ):
                    yield (at, *self._labels[label])

    def findings(
        self, data: bytes, path: str, *, first_line: int = 1, commit: str | None = None
    ) -> list[Finding]:
        """What :meth:`scan` finds in ``data`` (a file, or lines starting at
        ``first_line``), one finding per line, secret and encoding."""
        newlines = [match.start() for match in re.finditer(b"\n", data)]
        out: dict[tuple[int, str, str], Finding] = {}
        for offset, name, encoding in self.scan(data):
            line = first_line + bisect.bisect_left(newlines, offset)
            out.setdefault((line, name, encoding), Finding(path, line, name, encoding, commit))
        return list(out.values())

    def __repr__(self) -> str:
        return f"<Fingerprints values={self.values} forms={len(self._forms)}>"


def scan_paths(
    fingerprints: Fingerprints, paths: list[str], problems: list[str]
) -> Iterator[Finding]:
    """Findings in each file of ``paths`` (folders walked, ``.git`` left out); a file
    that cannot be read is added to ``problems`` as a line."""
    for file in _files(paths, problems):
        try:
            if file.stat().st_size > MAX_FILE_BYTES:
                problems.append(f"{file}: larger than {MAX_FILE_BYTES} bytes, not scanned")
                continue
            data = file.read_bytes()
        except OSError as err:
            problems.append(f"{file}: cannot read: {err.strerror or type(err).__name__}")
            continue
        yield from fingerprints.findings(data, str(file))


def _files(paths: list[str], problems: list[str]) -> Iterator[Path]:
    for given in paths:
        path = Path(given)
        if path.is_file():
            yield path
        elif path.is_dir():
            for folder, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d != ".git")
                for name in sorted(names):
                    candidate = Path(folder, name)
                    if candidate.is_file() and not candidate.is_symlink():
                        yield candidate
        else:
            problems.append(f"{given}: no such file or folder")


_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def scan_git(fingerprints: Fingerprints, path: str) -> Iterator[Finding]:
    """Findings in every line any commit reachable from any ref added under ``path``
    (``git log --all -p``). Raises :class:`ConfigError` if ``path`` is not in a git
    repository."""
    folder = path if os.path.isdir(path) else os.path.dirname(path) or "."
    command = [
        "git", "-C", folder, "-c", "core.quotepath=off", "log", "--all", "-p", "--text",
        "--no-color", "--no-ext-diff", "--unified=0", "--format=%x00commit %H",
        "--", os.path.abspath(path),
    ]  # fmt: skip
    try:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603
    except OSError as err:
        raise ConfigError(f"cannot run git: {err.strerror}", source=path) from None
    assert proc.stdout is not None  # noqa: S101 - a pipe was asked for
    yield from _diff_findings(fingerprints, proc.stdout)
    _, err_text = proc.communicate()
    if proc.returncode:
        reason = " ".join(err_text.decode("utf-8", "replace").split())[:200]
        raise ConfigError(f"git log failed: {reason}", source=path)


def _diff_findings(fingerprints: Fingerprints, lines: Iterator[bytes]) -> Iterator[Finding]:
    """Scan each run of added lines of a ``git log -p --unified=0`` stream as one text
    (a value that spans lines is found too), with its commit, file and first line."""
    commit = file = ""
    block: list[bytes] = []
    start = 0

    def flush() -> list[Finding]:
        found = fingerprints.findings(b"".join(block), file, first_line=start, commit=commit)
        block.clear()
        return found

    for raw in lines:
        if raw.startswith(b"+") and not raw.startswith(b"+++ ") and file:
            block.append(raw[1:])
            continue
        if block:
            yield from flush()
        if raw.startswith(b"\0commit "):
            commit = raw[8:].strip().decode("ascii", "replace")
        elif raw.startswith(b"+++ "):
            name = raw[4:].rstrip(b"\n").decode("utf-8", "replace")
            file = "" if name == "/dev/null" else name.removeprefix("b/")
        elif match := _HUNK.match(raw):
            start = int(match.group(1))
    if block:
        yield from flush()
