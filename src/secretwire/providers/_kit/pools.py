"""How many requests one provider may have in flight at once."""

from __future__ import annotations

__all__ = ["FETCH_WORKERS"]

#: The most threads the pipeline uses to read the uncached keys of one batch from one
#: provider (one per key up to this; ``SecretManager(max_workers=...)`` changes it),
#: and what the built-in providers size their HTTP connection pools to, so every
#: thread keeps its connection alive between requests.
FETCH_WORKERS = 32
