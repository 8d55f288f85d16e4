"""The provider kit's parts. Private: import them from :mod:`secretwire.providers.base`,
the kit's face (``from secretwire.providers.base import NamePolicy, Option, call``).

* :mod:`.checks` -- argument checks the template methods make once (values, maps, times);
* :mod:`.names` -- :class:`NamePolicy`, a provider's declared name and version rule;
* :mod:`.credentials` -- option text helpers and :class:`CredentialSource`;
* :mod:`.options` -- declarative :class:`Option` / :class:`Options` for ``from_options``;
* :mod:`.translate` -- :func:`call` and the exception-chain diggers;
* :mod:`.logs` -- :func:`quiet_loggers`, an SDK log guard;
"""
