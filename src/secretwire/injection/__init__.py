"""Injecting secrets into a child process: what ``secretwire run`` does.

:func:`template_variables` resolves the variables a template names (``.env`` files
whose values hold references, or the references of a YAML/JSON/TOML config file)
through a :class:`~secretwire.SecretManager`, in one batch per file; :func:`run`
starts the command with them in its environment, as files or on its stdin, streams
its output through a :class:`~secretwire.StreamMasker`, passes signals on and
returns its exit status. See ``docs/injection.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._exports import lazy_exports

if TYPE_CHECKING:
    from .process import RunOptions, RunResult, run
    from .template import Variable, template_variables

# Each name's module loads on its first use (python -X importtime).
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "process": "RunOptions RunResult run",
        "template": "Variable template_variables",
    },
)

__all__ = ["RunOptions", "RunResult", "Variable", "run", "template_variables"]
