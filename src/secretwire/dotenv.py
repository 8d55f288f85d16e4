"""``.env`` files: read (templates for ``secretwire run``, values for ``import``) and write.

Grammar, one variable per line (a quoted value may span lines)::

    # a comment; blank lines are skipped
    [export] KEY = value            unquoted: up to " #" or the end of the line, trimmed
    KEY='literal text'              single quotes: nothing is special inside
    KEY="a\\nb \\"c\\" \\$d"          double quotes: \\n \\r \\t \\" \\\\ \\$ are escapes

``KEY`` is a variable name (``[A-Za-z_][A-Za-z0-9_]*``) and may appear once. The file
must be UTF-8. Errors are :class:`DotenvError` naming the file and line and never
quoting the line (in an import file it holds a value); parsed values are held by
:class:`SecretValue`, and no frame on the way of an error holds the file's text.
:func:`format_dotenv` writes what :func:`parse_dotenv` reads back unchanged.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError
from .values import SecretValue

__all__ = ["DotenvEntry", "DotenvError", "env_key", "format_dotenv", "parse_dotenv", "read_dotenv"]

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGNMENT = re.compile(r"[ \t]*(?:export[ \t]+)?([^=\s#]+)[ \t]*=[ \t]*")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$"}
_BARE = re.compile(r"[A-Za-z0-9_./:@%+,=-]*")
#: The most variables one file may define (a bound on hostile input).
MAX_ENTRIES = 10_000


class DotenvError(ConfigError):
    """A ``.env`` file that cannot be read or parsed: ``source`` and ``line`` say where."""

    def __init__(self, reason: str, *, source: str, line: int | None = None) -> None:
        where = f"{source}:{line}" if line is not None else source
        super().__init__(reason, source=where)
        self.source = source
        self.line = line


@dataclass(frozen=True)
class DotenvEntry:
    """One variable: its name, its text (masked until revealed) and its line."""

    key: str
    value: SecretValue
    line: int


def read_dotenv(path: str | Path) -> list[DotenvEntry]:
    """The variables of the ``.env`` file ``path``; :class:`DotenvError` if it cannot be
    read (naming the file and the reason) or parsed (naming the line)."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise DotenvError(f"cannot read the file: {reason}", source=source) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        del data
        raise DotenvError("not UTF-8 text", source=source, line=line) from None
    del data
    entries, problem = _parse(text)
    del text
    if problem is not None:
        raise DotenvError(problem[1], source=source, line=problem[0])
    return entries


def parse_dotenv(text: str, *, source: str = "<text>") -> list[DotenvEntry]:
    """The variables of ``.env`` text (see the module docstring)."""
    entries, problem = _parse(text)
    del text
    if problem is not None:
        raise DotenvError(problem[1], source=source, line=problem[0])
    return entries


def _parse(text: str) -> tuple[list[DotenvEntry], tuple[int, str] | None]:
    """The entries, or the (line, reason) of the first problem. Never raises: the
    caller raises once no frame holds the text."""
    lines = text.removeprefix("\ufeff").split("\n")
    entries: list[DotenvEntry] = []
    seen: dict[str, int] = {}
    index = 0
    while index < len(lines):
        number, line = index + 1, lines[index].rstrip("\r")
        index += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ASSIGNMENT.match(line)
        if match is None:
            return entries, (number, "expected KEY=VALUE (the line is not shown)")
        key = match.group(1)
        if not _KEY.fullmatch(key):
            return entries, (number, "the variable name is not [A-Za-z_][A-Za-z0-9_]*")
        if key in seen:
            return entries, (number, f"{key} is defined again (first at line {seen[key]})")
        if len(entries) >= MAX_ENTRIES:
            return entries, (number, f"more than {MAX_ENTRIES} variables")
        rest = line[match.end() :]
        value, index, problem = _value(rest, lines, index)
        if problem is not None:
            return entries, (number, f"{key}: {problem}")
        seen[key] = number
        entries.append(DotenvEntry(key, SecretValue(value), number))
    return entries, None


def _value(rest: str, lines: list[str], index: int) -> tuple[str, int, str | None]:
    """The value that starts with ``rest`` (a quoted one may go on over the next
    lines), the index of the line after it, and a problem or None."""
    quote = rest[:1]
    if quote not in ("'", '"'):
        comment = re.search(r"[ \t]#", rest)
        return (rest[: comment.start()] if comment else rest).strip(), index, None
    text = rest[1:]
    chunks: list[str] = []
    while True:
        end = _closing(text, quote)
        if end >= 0:
            chunks.append(text[:end])
            break
        chunks.append(text + "\n")
        if index >= len(lines):
            return "", index, f"the {_QUOTES[quote]} quote is not closed"
        text, index = lines[index].rstrip("\r"), index + 1
    tail = text[end + 1 :].strip()
    if tail and not tail.startswith("#"):
        return "", index, "unexpected text after the closing quote"
    body = "".join(chunks)
    return (_unescape(body) if quote == '"' else body), index, None


_QUOTES = {"'": "single", '"': "double"}


def _closing(text: str, quote: str) -> int:
    """The offset of the closing ``quote`` in ``text`` (``\\"`` does not close), or -1."""
    at = 0
    while at < len(text):
        ch = text[at]
        if ch == "\\" and quote == '"':
            at += 2
            continue
        if ch == quote:
            return at
        at += 1
    return -1


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), body, flags=re.S)


def env_key(name: str) -> str:
    """The variable name for a secret name: ``db/password`` -> ``DB_PASSWORD``."""
    key = re.sub(r"[^A-Za-z0-9_]", "_", name).upper()
    return f"_{key}" if key[:1].isdigit() else key


def format_dotenv(pairs: Iterable[tuple[str, str]], *, style: str = "dotenv") -> str:
    """``KEY=value`` lines (``style="shell"``: ``export KEY='value'`` for ``sh``) that
    :func:`parse_dotenv` (or the shell) reads back as the same values."""
    out = []
    for key, value in pairs:
        if style == "shell":
            out.append(f"export {key}={shlex.quote(value)}\n")
        else:
            out.append(f"{key}={_quoted(value)}\n")
    return "".join(out)


def _quoted(value: str) -> str:
    if _BARE.fullmatch(value):
        return value
    if "'" not in value and "\n" not in value and "\r" not in value:
        return f"'{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + '"'
