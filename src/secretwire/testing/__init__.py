"""The provider conformance suite, shipped so any provider can prove it keeps the contract.

Subclass :class:`ProviderContract` in a pytest module and supply a provider::

    import pytest
    from secretwire.testing import ProviderContract

    class TestMyProvider(ProviderContract):
        @pytest.fixture
        def provider(self, tmp_path):
            p = MyProvider(...)
            yield p
            p.close()

Read-only providers override :meth:`ProviderContract.seed` to place a value in
the backend by other means. A case the backend (or its emulator) cannot support
is listed in ``unsupported`` with the reason, and is skipped with that reason.

The ``test_no_leak_*`` cases provoke every error path (a missing name, version or
field, refused writes, a missing delete, access denied; directly and through a
:class:`~secretwire.SecretManager`) with :data:`CANARY` as the value, and render
each error the way error trackers do (message, chain, and every frame's local
variables: :func:`assert_no_leak`). Override the ``credentials`` fixture to return
the provider's credentials (a token, a secret access key, the store key as text),
so those cases look for them too. Requires pytest.
"""

from __future__ import annotations

from ._leak_cases import LeakCases
from ._lifecycle_cases import LifecycleCases
from ._reads import ReadWriteCases
from ._uniform import UniformCases
from .clock import FakeClock
from .fixtures import ns, unique_prefix
from .leaks import CANARY, assert_no_leak, error_texts, exception_chain, leak_texts
from .options import check_option_tables, check_options, update_option_tables

__all__ = [
    "CANARY",
    "FakeClock",
    "ProviderContract",
    "assert_no_leak",
    "check_option_tables",
    "check_options",
    "error_texts",
    "exception_chain",
    "leak_texts",
    "ns",
    "unique_prefix",
    "update_option_tables",
]


class ProviderContract(ReadWriteCases, LeakCases, UniformCases, LifecycleCases):
    """The conformance cases every provider must pass (see the module docstring)."""
