"""A command hook for the rotation tests: the "system" is a file holding the one
password it accepts. ``apply FILE`` writes the new value there; ``verify FILE`` exits
0 only if the new value is the one in the file. The values arrive on stdin, as JSON."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main() -> int:
    step, system = sys.argv[1], Path(sys.argv[2])
    call = json.loads(sys.stdin.read())
    if step == "apply":
        temporary = system.with_suffix(".tmp")
        temporary.write_text(call["new"], encoding="utf-8")
        os.replace(temporary, system)
        return 0
    return 0 if system.read_text(encoding="utf-8") == call["new"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
