"""Run one rotation in this process and SIGKILL it at a chosen point (or not at all).

    python kill_worker.py SETTINGS NAME POINT

POINT is a step of the rotation's progress (``started``, ``generated``, ``stored``,
``applied``, ``verified``), ``storing`` (Vault: between the data write and the
metadata write of the new version), ``promoting`` (AWS: between moving AWSCURRENT and
removing AWSPENDING), or ``none``. The hooks and generator come from the settings'
``secrets:`` section. SIGKILL: no ``finally``, no ``atexit``, no flush.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from secretwire import SecretManager


def die(*_: Any, **__: Any) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> int:
    settings, name, point = sys.argv[1:4]
    manager = SecretManager.from_settings(settings)
    provider: Any = manager.provider
    if point == "storing":  # after Vault answered the data write, before the metadata write

        def after(response: Any, *args: Any, **kwargs: Any) -> None:
            if response.request.method == "POST" and "/data/" in response.request.url:
                die()

        provider._transport.adapter().session.hooks["response"].append(after)
    if point == "promoting":  # after the first UpdateSecretVersionStage (AWSCURRENT moved)
        provider.client.meta.events.register(
            "after-call.secrets-manager.UpdateSecretVersionStage", die
        )

    def progress(step: str) -> None:
        if step == point:
            die()

    result = manager.rotate(name, progress=progress)
    print(result.version)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
