"""The metrics exporters: the Prometheus text format, read back with prometheus_client's
own parser, and OpenTelemetry metrics, read back through the SDK's in-memory reader.

The manager is a fallback chain (an unavailable file store, then the ``env``
provider) whose first circuit is open, so every kind of sample is there."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from secretwire import SecretManager
from secretwire.manager import Metrics
from secretwire.metrics import samples
from secretwire.metrics.prometheus import prometheus_text, register
from secretwire.pipeline import LATENCY_BUCKETS
from secretwire.settings import parse_settings
from secretwire.testing import CANARY, FakeClock
from tests.unit.test_fallback_chain import SETTINGS


@pytest.fixture
def manager(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SecretManager:
    monkeypatch.setenv("SWFB_DB_PASSWORD", CANARY)
    data = yaml.safe_load(SETTINGS)  # the fallback chain's tests' settings, with a cache
    data["environments"]["prod"].update(cache={"enabled": True}, breaker={"failures": 2})
    settings = parse_settings(data, source="s.yaml", base_dir=tmp_path)
    manager = SecretManager.from_settings(settings, timer=FakeClock())
    manager.get("db/password")  # file unavailable -> env (1 failure)
    manager.clear_cache()
    manager.get("db/password")  # 2 failures: the circuit opens
    manager.clear_cache()
    manager.get("db/password")  # failed fast -> env
    manager.get("db/password")  # a cache hit
    return manager


def _families(text: str) -> dict[str, Any]:
    from prometheus_client.parser import text_string_to_metric_families

    return {family.name: family for family in text_string_to_metric_families(text)}


def _value(family: Any, suffix: str = "", **labels: str) -> float:
    found = [
        s.value
        for s in family.samples
        if s.name == family.name + suffix and labels.items() <= s.labels.items()
    ]
    assert len(found) == 1, (family.name, suffix, labels, family.samples)
    return float(found[0])


def test_the_prometheus_text_parses_with_prometheus_client(manager: SecretManager) -> None:
    text = prometheus_text(manager)
    assert CANARY not in text
    assert "db/password" not in text  # labels are names of providers, never of secrets
    families = _families(text)
    assert families["secretwire_cache_hits"].type == "counter"
    assert _value(families["secretwire_cache_hits"], "_total", environment="prod") == 1
    assert _value(families["secretwire_cache_misses"], "_total") == 3
    assert families["secretwire_cache_size"].type == "gauge"
    state = families["secretwire_circuit_state"]
    assert _value(state, provider="file", position="0") == 2  # open
    assert _value(state, provider="env", position="1") == 0  # closed
    assert _value(families["secretwire_circuit_rejected"], "_total", provider="file") == 1
    assert _value(families["secretwire_circuit_opened"], "_total", provider="file") == 1
    calls = families["secretwire_backend_calls"]
    assert _value(calls, "_total", provider="env", operation="get") == 3
    assert _value(families["secretwire_backend_errors"], "_total", provider="file") == 2
    latency = families["secretwire_backend_latency_seconds"]
    assert latency.type == "histogram"
    assert _value(latency, "_count", provider="env") == 3
    assert _value(latency, "_bucket", provider="env", le="+Inf") == 3
    bounds = sorted(
        float(s.labels["le"])
        for s in latency.samples
        if s.name.endswith("_bucket") and s.labels["provider"] == "env"
    )
    assert bounds == [*LATENCY_BUCKETS, float("inf")]


def test_the_collector_registers_in_a_registry(manager: SecretManager) -> None:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    collector = register(manager, registry=registry)
    labels = {"environment": "prod", "provider": "file", "position": "0"}
    assert registry.get_sample_value("secretwire_circuit_state", labels) == 2
    registry.unregister(collector)
    assert registry.get_sample_value("secretwire_circuit_state", labels) is None


def test_every_number_metrics_has_is_exported(manager: SecretManager) -> None:
    """A counter another feature adds to the metrics (here a made-up ``stale`` group)
    is exported without a change to the exporters."""

    @dataclasses.dataclass(frozen=True)
    class Stale:
        served: int
        oldest_seconds: float

    @dataclasses.dataclass(frozen=True)
    class MoreMetrics(Metrics):
        stale: Stale = Stale(7, 1.5)
        negative_hits: int = 4

    class Extended(SecretManager):
        def metrics(self) -> Metrics:
            return MoreMetrics(**{f.name: getattr(base, f.name) for f in dataclasses.fields(base)})

    base = manager.metrics()
    manager.__class__ = Extended
    names = {sample.name(): sample for sample in samples(manager).samples}
    assert names["secretwire_stale_served"].value == 7
    assert names["secretwire_negative_hits"].kind == "counter"
    families = _families(prometheus_text(manager))
    assert _value(families["secretwire_stale_served"], "_total") == 7


def test_opentelemetry_metrics_read_back_through_the_sdk(manager: SecretManager) -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from secretwire.metrics.otel import instrument

    reader = InMemoryMetricReader()
    instrument(manager, meter_provider=MeterProvider(metric_readers=[reader]))
    manager.clear_cache()
    manager.get("db/password")  # recorded by the histogram (env, get)
    data = reader.get_metrics_data()
    assert data is not None
    found = {
        metric.name: metric
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    hits = found["secretwire.cache.hits"].data
    assert [point.value for point in hits.data_points] == [1]
    states = {
        point.attributes["provider"]: point.value
        for point in found["secretwire.circuit.state"].data.data_points
    }
    assert states == {"file": 2, "env": 0}
    duration = found["secretwire.backend.duration"]
    assert duration.unit == "s"
    (point,) = duration.data.data_points
    assert point.attributes == {
        "environment": "prod",
        "provider": "env",
        "position": "1",
        "operation": "get",
        "outcome": "ok",
    }
    assert point.count == 1
    assert tuple(point.explicit_bounds) == LATENCY_BUCKETS
    assert CANARY not in repr(data)
