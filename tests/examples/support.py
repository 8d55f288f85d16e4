"""Run an example as a user runs it: in its own folder, as a subprocess, with an
environment cleaned of variables that would change which backend it reads."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def clean_env(drop: Sequence[str] = (), **extra: str) -> dict[str, str]:
    """``os.environ`` without ``SECRETWIRE_*`` and names starting with ``drop``,
    plus ``extra``; ``PYTHONPATH`` lets the subprocess import this checkout."""
    prefixes = ("SECRETWIRE_", *drop)
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    env.update(extra)
    return env


def run(
    args: Sequence[str], cwd: Path, stdin: str = "", *, drop: Sequence[str] = (), **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` in ``cwd``; never raises on a non-zero exit (tests assert on it)."""
    return subprocess.run(
        list(args),
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        env=clean_env(drop, **env),
        timeout=120,
    )
