"""The Prometheus exporter (extra ``prometheus``: ``pip install "secretwire[prometheus]"``).

::

    from prometheus_client import start_http_server
    from secretwire.metrics.prometheus import register

    register(manager)          # into prometheus_client's default registry
    start_http_server(9100)    # /metrics

:class:`SecretwireCollector` reads :meth:`SecretManager.metrics` at every scrape (no
background thread, nothing to update); :func:`prometheus_text` renders the text
format directly (a ``/metrics`` view of your own web framework).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .._extras import require_extra
from . import Snapshot, samples

if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry

    from ..manager import SecretManager

__all__ = ["SecretwireCollector", "prometheus_text", "register"]

_HELP = {
    "secretwire_backend_latency_seconds": "Provider call latency",
}


class SecretwireCollector:
    """A ``prometheus_client`` collector for one or more managers (one per environment:
    the ``environment`` label tells them apart)."""

    def __init__(self, *managers: SecretManager) -> None:
        require_extra("prometheus_client", "prometheus")
        self.managers = managers

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (  # noqa: PLC0415 - the optional extra
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        families: dict[str, Any] = {}
        snapshots: list[Snapshot] = [samples(manager) for manager in self.managers]
        for snapshot in snapshots:
            for sample in snapshot.samples:
                name = sample.name()
                family = families.get(name)
                if family is None:
                    kind = CounterMetricFamily if sample.kind == "counter" else GaugeMetricFamily
                    words = sample.help or f"secretwire {' '.join(sample.path)}"
                    family = families[name] = kind(name, words, labels=list(sample.labels))
                family.add_metric(list(sample.labels.values()), sample.value)
        for snapshot in snapshots:
            for histogram in snapshot.histograms:
                name = "secretwire_backend_latency_seconds"
                family = families.get(name)
                if family is None:
                    family = families[name] = HistogramMetricFamily(
                        name, _HELP[name], labels=list(histogram.labels)
                    )
                family.add_metric(
                    list(histogram.labels.values()), histogram.cumulative, histogram.total
                )
        yield from families.values()

    def describe(self) -> Iterator[Any]:
        return iter(())  # unchecked collector: the metrics follow metrics()' fields


def register(*managers: SecretManager, registry: CollectorRegistry | None = None) -> Any:
    """Register a :class:`SecretwireCollector` for ``managers`` (in ``registry``, by
    default prometheus_client's global one) and return it (``registry.unregister``)."""
    collector = SecretwireCollector(*managers)
    if registry is None:
        from prometheus_client import REGISTRY  # noqa: PLC0415 - the optional extra

        registry = REGISTRY
    registry.register(collector)
    return collector


def prometheus_text(*managers: SecretManager) -> str:
    """The Prometheus text exposition format of ``managers``' metrics now."""
    require_extra("prometheus_client", "prometheus")
    from prometheus_client import CollectorRegistry, generate_latest  # noqa: PLC0415

    registry = CollectorRegistry(auto_describe=False)
    registry.register(SecretwireCollector(*managers))
    return generate_latest(registry).decode("utf-8")
