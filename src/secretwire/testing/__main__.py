"""``python -m secretwire.testing options PAGE.md ...``: rewrite the marked option
tables of provider docs pages from the providers' declarations."""

from __future__ import annotations

import sys

from .options import main

if __name__ == "__main__":  # pragma: no cover - a maintenance command
    if sys.argv[1:2] != ["options"]:
        sys.exit("usage: python -m secretwire.testing options PAGE.md [PAGE.md ...]")
    sys.exit(main(sys.argv[2:]))
