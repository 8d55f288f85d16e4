"""Metrics you can scrape: what :meth:`SecretManager.metrics` counts, as samples.

:func:`samples` turns a manager's :class:`~secretwire.manager.Metrics` into flat,
labelled :class:`Sample` values and :class:`Histogram` values that the exporters
publish:

* :mod:`secretwire.metrics.prometheus` -- a ``prometheus-client`` collector and the
  Prometheus text format (extra ``prometheus``);
* :mod:`secretwire.metrics.otel` -- OpenTelemetry instruments (extra ``otel``).

It walks the metrics generically: every number of every dataclass in them becomes a
sample named after its path (``cache.hits`` -> ``secretwire_cache_hits``), so a
counter added to the cache or the manager's metrics is exported without a change
here. Numbers named in :data:`GAUGES` go up and down; every other one is a counter.
Each backend (the providers of a fallback chain) gets its call counts, its latency
histogram and its circuit breaker's state, labelled ``provider`` and ``position``.
Labels are names only (environment, provider, operation): never a secret's name or
value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..pipeline import LATENCY_BUCKETS, BackendMetrics

if TYPE_CHECKING:
    from ..manager import SecretManager

__all__ = ["CIRCUIT_STATES", "GAUGES", "Histogram", "Sample", "Snapshot", "samples"]

#: Fields whose value goes up and down (gauges); every other number is a counter.
GAUGES = frozenset(
    {"size", "maxsize", "ttl", "seconds_max", "load_seconds_max", "failures", "retry_in", "state"}
    | {"invalidation_delay_max"}  # the L2's (secretwire.l2)
)
#: ``secretwire_circuit_state``'s values.
CIRCUIT_STATES = {"closed": 0, "half-open": 1, "open": 2}
_SKIPPED = frozenset({"provider", "backend", "backends"})


@dataclass(frozen=True, slots=True)
class Sample:
    """One number: ``path`` (``("cache", "hits")``) names it, ``labels`` qualify it."""

    path: tuple[str, ...]
    kind: str  # "counter" or "gauge"
    value: float
    labels: Mapping[str, str]
    help: str = ""

    def name(self, separator: str = "_") -> str:
        return separator.join(("secretwire", *self.path))


@dataclass(frozen=True, slots=True)
class Histogram:
    """Backend latency: ``counts[i]`` calls in bucket ``i`` (of :data:`LATENCY_BUCKETS`,
    the last one above every bound), not cumulative."""

    labels: Mapping[str, str]
    counts: tuple[int, ...]
    total: float

    @property
    def cumulative(self) -> list[tuple[str, float]]:
        """``(le, count)`` pairs as Prometheus writes them, ``+Inf`` last."""
        bounds = [*(str(bound) for bound in LATENCY_BUCKETS), "+Inf"]
        running, pairs = 0, []
        for bound, count in zip(bounds, self.counts, strict=True):
            running += count
            pairs.append((bound, float(running)))
        return pairs


@dataclass(frozen=True, slots=True)
class Snapshot:
    samples: tuple[Sample, ...]
    histograms: tuple[Histogram, ...]


def samples(manager: SecretManager) -> Snapshot:
    """The samples of ``manager`` now, labelled with its ``environment``."""
    metrics = manager.metrics()
    base = {"environment": manager.environment or ""}
    found = list(_walk(metrics, (), {**base, "provider": metrics.provider}))
    histograms = []
    for position, backend in enumerate(metrics.backends):
        labels = {**base, "provider": backend.provider, "position": str(position)}
        found.extend(_backend(backend, labels))
        histograms.append(Histogram(labels, backend.stats.buckets, backend.stats.seconds_total))
    return Snapshot(tuple(found), tuple(histograms))


def _walk(value: Any, path: tuple[str, ...], labels: Mapping[str, str]) -> Iterator[Sample]:
    """Every number in ``value`` (a dataclass, nested dataclasses and mappings)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            if not path and field.name in _SKIPPED:
                continue  # the backends are exported with their labels below
            yield from _walk(getattr(value, field.name), (*path, field.name), labels)
    elif isinstance(value, bool):
        yield Sample(path, "gauge", float(value), labels)
    elif isinstance(value, int | float):
        kind = "gauge" if path[-1] in GAUGES else "counter"
        yield Sample(path, kind, float(value), labels)
    elif isinstance(value, Mapping) and path:
        for key, item in value.items():
            if isinstance(item, int | float) and not isinstance(item, bool):
                yield Sample(path, "counter", float(item), {**labels, "key": str(key)})


def _backend(backend: BackendMetrics, labels: Mapping[str, str]) -> Iterator[Sample]:
    stats = backend.stats
    for operation, count in stats.by_operation.items():
        yield Sample(
            ("backend", "calls"),
            "counter",
            count,
            {**labels, "operation": operation},
            "Calls that reached the provider",
        )
    yield Sample(
        ("backend", "errors"), "counter", stats.errors, labels, "Provider calls that failed"
    )
    yield Sample(
        ("backend", "seconds_max"), "gauge", stats.seconds_max, labels, "Slowest provider call"
    )
    circuit = backend.circuit
    if circuit is None:
        return
    yield Sample(
        ("circuit", "state"),
        "gauge",
        CIRCUIT_STATES.get(circuit.state, -1),
        labels,
        "Circuit breaker state: 0 closed, 1 half-open, 2 open",
    )
    for field, kind, words in (
        ("failures", "gauge", "Consecutive failures counted"),
        ("opened", "counter", "Times the circuit opened"),
        ("rejected", "counter", "Calls failed fast while the circuit was open"),
        ("retry_in", "gauge", "Seconds until the next probe"),
    ):
        yield Sample(("circuit", field), kind, getattr(circuit, field), labels, words)
