"""The OpenTelemetry exporter (extra ``otel``: ``pip install "secretwire[otel]"``).

::

    from secretwire.metrics.otel import instrument

    instrument(manager)                       # the global MeterProvider
    instrument(manager, meter_provider=mine)  # or yours

Counters and gauges are observable instruments that read
:meth:`SecretManager.metrics` when the SDK collects (``secretwire.cache.hits``,
``secretwire.circuit.state``...); the backend latency is a histogram
(``secretwire.backend.duration``, seconds) recorded as each provider call ends. The
attributes are names only: environment, provider, position, operation, outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .._extras import require_extra
from .._version import __version__
from ..pipeline import LATENCY_BUCKETS
from . import Sample, samples

if TYPE_CHECKING:
    from opentelemetry.metrics import CallbackOptions, Meter, MeterProvider, Observation

    from ..manager import SecretManager

__all__ = ["instrument"]


def instrument(manager: SecretManager, *, meter_provider: MeterProvider | None = None) -> Meter:
    """Publish ``manager``'s metrics through OpenTelemetry; returns the meter used."""
    metrics_api = require_extra("opentelemetry.metrics", "otel")
    meter: Meter = metrics_api.get_meter("secretwire", __version__, meter_provider=meter_provider)
    names: dict[str, Sample] = {}
    for sample in samples(manager).samples:
        names.setdefault(sample.name("."), sample)
    for name, sample in names.items():
        make = (
            meter.create_observable_counter
            if sample.kind == "counter"
            else (meter.create_observable_gauge)
        )
        make(name, callbacks=[_observer(manager, name, metrics_api.Observation)],
             description=sample.help or f"secretwire {' '.join(sample.path)}")  # fmt: skip
    histogram = meter.create_histogram(
        "secretwire.backend.duration",
        unit="s",
        description="Provider call latency",
        explicit_bucket_boundaries_advisory=LATENCY_BUCKETS,
    )
    for position, backend in enumerate(manager.backends()):
        attributes = {
            "environment": manager.environment or "",
            "provider": backend.stage.provider_name,
            "position": str(position),
        }

        def record(operation: str, seconds: float, failed: bool, base: Any = attributes) -> None:
            outcome = "error" if failed else "ok"
            histogram.record(seconds, {**base, "operation": operation, "outcome": outcome})

        backend.stage.listen(record)
    return meter


def _observer(
    manager: SecretManager, name: str, observation: type[Observation]
) -> Callable[[CallbackOptions], Iterable[Observation]]:
    def observe(options: CallbackOptions) -> Iterable[Observation]:
        return [
            observation(sample.value, dict(sample.labels))
            for sample in samples(manager).samples
            if sample.name(".") == name
        ]

    return observe
