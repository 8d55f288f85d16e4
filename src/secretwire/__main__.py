"""``python -m secretwire``: the same as the ``secretwire`` command."""

import sys

from .cli import main

sys.exit(main())
