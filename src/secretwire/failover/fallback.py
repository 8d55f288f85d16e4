"""A fallback chain: :class:`FallbackLayer` asks its providers in order.

The next provider is asked only when the one before could not answer: it was
unavailable (:class:`ProviderUnavailable`, its circuit open included), or, when the
settings say so, it answered not found or access denied. A value keeps the name of
the provider that served it (``Secret.provider``, and so the resolver's provenance).

* A pinned version (``db/password@3``) is never asked of the next provider: version
  ids belong to one backend, and another one's "3" is another value.
* Writes (``set``, ``delete``) and ``versions`` go to the first provider only: a
  write to a fallback would make the stores disagree.
* ``list`` falls back like a read.
* ``health`` checks every link at once and reports each (``Health.links``): ``ok``
  when the first is, ``degraded`` when a later one serves, else the first's status.
"""

from __future__ import annotations

import builtins
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ..errors import AccessDenied, ProviderError, ProviderUnavailable, SecretNotFound
from ..pipeline import Backend, Handler, Layer
from ..types import Health, HealthStatus, Key, Secret, SecretVersion

__all__ = ["FALLBACK_ON", "FallbackLayer", "Link"]

logger = logging.getLogger("secretwire")

#: What ``fallback_on`` may name: the errors after which the next provider is asked.
FALLBACK_ON: dict[str, type[ProviderError]] = {
    "unavailable": ProviderUnavailable,
    "not_found": SecretNotFound,
    "denied": AccessDenied,
}

T = TypeVar("T")
Results = dict[Key, Secret | ProviderError]


@dataclass(frozen=True, slots=True)
class Link:
    """One provider of a chain: ``label`` names it in logs (the settings' environment),
    ``handler`` is its stage (behind its circuit breaker)."""

    label: str
    handler: Handler


class FallbackLayer(Layer):
    """Asks ``links`` in order (see the module docstring); ``on`` names the
    :data:`FALLBACK_ON` errors that pass a request on to the next link."""

    def __init__(self, links: Sequence[Link], *, on: Sequence[str] = ("unavailable",)) -> None:
        if not links:
            raise ValueError("a fallback chain needs at least one link")
        unknown = sorted(set(on) - set(FALLBACK_ON))
        if unknown:
            raise ValueError(f"unknown fallback_on: {', '.join(unknown)}")
        super().__init__(links[0].handler)
        self.links = tuple(links)
        self.on = tuple(on)
        self._passes = tuple(FALLBACK_ON[item] for item in on)
        self._lock = threading.Lock()
        #: links that failed last time they were asked (one warning per outage)
        self._down: set[int] = set()

    # -- the walk ----------------------------------------------------------------------
    def _passes_on(self, error: ProviderError, index: int, version: str | None = None) -> bool:
        return index + 1 < len(self.links) and version is None and isinstance(error, self._passes)

    def _went(self, index: int, error: ProviderError | None) -> None:
        """Log a link going down (once per outage) or coming back."""
        with self._lock:
            was_down = index in self._down
            if error is None:
                self._down.discard(index)
            else:
                self._down.add(index)
        link = self.links[index]
        if error is not None and not was_down and index + 1 < len(self.links):
            after = self.links[index + 1]
            logger.warning(
                "fallback: %s (%s) %s; asking %s (%s)",
                link.handler.provider_name,
                link.label,
                error.reason,
                after.handler.provider_name,
                after.label,
            )
        elif error is None and was_down:
            logger.warning(
                "fallback: %s (%s) answers again", link.handler.provider_name, link.label
            )

    def _walk(self, call: Callable[[Handler], T], version: str | None = None) -> T:
        """``call`` on each link in turn until one answers or may not pass it on."""
        failures: builtins.list[ProviderError] = []
        for index, link in enumerate(self.links):
            try:
                result = call(link.handler)
            except ProviderError as err:
                self._went(index, err if isinstance(err, ProviderUnavailable) else None)
                failures.append(err)
                if self._passes_on(err, index, version):
                    continue
                final = _final(failures)
                if final is err:
                    raise
                raise final from None
            self._went(index, None)
            return result
        raise AssertionError("unreachable: the last link never passes on")  # pragma: no cover

    # -- reads -------------------------------------------------------------------------
    def get(self, name: str, *, version: str | None = None) -> Secret:
        return self._walk(
            lambda handler: _marked(handler, handler.get(name, version=version)), version
        )

    def get_many(self, keys: Sequence[Key]) -> Results:
        results: Results = {}
        tried: dict[Key, builtins.list[ProviderError]] = {}
        pending = list(keys)
        for index, link in enumerate(self.links):
            if not pending:
                break
            try:
                answers = link.handler.get_many(pending)
            except ProviderError as err:
                answers = dict.fromkeys(pending, err)
            reached = False
            down: ProviderUnavailable | None = None
            passed: builtins.list[Key] = []
            for key in pending:
                outcome = answers.get(key)
                if outcome is None:
                    continue  # left out: the cache layer above reports it
                if isinstance(outcome, Secret):
                    results[key] = _marked(link.handler, outcome)
                    reached = True
                    continue
                if isinstance(outcome, ProviderUnavailable):
                    down = down or outcome
                else:
                    reached = True
                tried.setdefault(key, []).append(outcome)
                if self._passes_on(outcome, index, key[1]):
                    passed.append(key)
                else:
                    results[key] = _final(tried[key])
            self._went(index, None if reached else down)
            pending = passed
        return results

    def list(self, prefix: str = "") -> builtins.list[str]:
        return self._walk(lambda handler: handler.list(prefix))

    def versions(self, name: str) -> builtins.list[SecretVersion]:
        return self.inner.versions(name)  # version ids belong to the first provider

    # -- health and the rest -----------------------------------------------------------
    def health(self) -> Health:
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - health only

        started = time.perf_counter()
        with ThreadPoolExecutor(len(self.links), thread_name_prefix="secretwire-health") as pool:
            links = tuple(pool.map(lambda link: link.handler.health(), self.links))
        first = links[0]
        serving = next((health for health in links if health.ok), None)
        if first.ok:
            status, detail = HealthStatus.OK, f"served by {first.provider}"
        elif serving is not None:
            status = HealthStatus.DEGRADED
            detail = f"{first.provider} is {first.status.value}: served by {serving.provider}"
        else:
            status, detail = first.status, "no provider of the chain is available"
        return Health(
            first.provider,
            status,
            detail,
            time.perf_counter() - started,
            warnings=tuple(w for health in links for w in health.warnings),
            links=links,
        )

    def close(self) -> None:
        errors: builtins.list[BaseException] = []
        for link in self.links:
            try:
                link.handler.close()
            except Exception as err:  # noqa: BLE001 - close every link, then raise
                errors.append(err)
        if errors:
            raise errors[0]

    def backends(self) -> tuple[Backend, ...]:
        return tuple(backend for link in self.links for backend in link.handler.backends())


def _marked(handler: Handler, secret: Secret) -> Secret:
    """``secret`` naming the provider that served it (a provider that left it out)."""
    if secret.provider is not None:
        return secret
    return dataclasses.replace(secret, provider=handler.provider_name)


def _final(failures: Sequence[ProviderError]) -> ProviderError:
    """The error to report: the last link's, unless every link was unavailable (then
    one :class:`ProviderUnavailable` naming each link's reason)."""
    last = failures[-1]
    if len(failures) == 1 or not all(isinstance(e, ProviderUnavailable) for e in failures):
        return last
    return ProviderUnavailable(
        operation=last.operation,
        name=last.name,
        provider=" -> ".join(str(e.provider) for e in failures),
        detail="every provider of the chain is unavailable: "
        + "; ".join(f"{e.provider}: {e.reason}" for e in failures),
    )
