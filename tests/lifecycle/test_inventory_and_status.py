"""The ``secrets:`` section, status rows, schedules (on a fake clock), expiry warnings,
and validation that names the rule, never the value."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from secretwire import ConfigError, ResolutionError, SecretExpired, SecretManager
from secretwire.lifecycle import Inventory, due_names, inventory_status, parse_inventory
from secretwire.providers.memory import MemoryProvider
from secretwire.settings import parse_settings
from secretwire.testing import CANARY, FakeClock

DAY = 86400.0


def inventory(data: dict[str, Any]) -> Inventory:
    return parse_inventory(data, source="s.yaml", base_dir=Path())


@pytest.mark.parametrize(
    ("data", "key", "message"),
    [
        (
            {"db": {"rotation": {"interval": "monthly"}}},
            "secrets.db.rotation.interval",
            "must be a duration",
        ),
        (
            {"db": {"rotation": {"interval": "0d"}}},
            "secrets.db.rotation.interval",
            "longer than zero",
        ),
        ({"db": {"rotaton": {}}}, "secrets.db.rotaton", "unknown key"),
        (
            {"db": {"validation": {"pattern": "("}}},
            "secrets.db.validation.pattern",
            "not a valid regular expression",
        ),
        (
            {"db": {"validation": {"min_length": 0}}},
            "secrets.db.validation.min_length",
            "positive integer",
        ),
        (
            {"db": {"validation": {"json_fields": "user"}}},
            "secrets.db.validation.json_fields",
            "list of field names",
        ),
        ({"db": {"required": "yes"}}, "secrets.db.required", "true or false"),
        (
            {"db": {"warn_before_expiry": "2 weeks"}},
            "secrets.db.warn_before_expiry",
            "must be a duration",
        ),
        (
            {"db": {"rotation": {"apply": "./x.sh"}}},
            "secrets.db.rotation.apply",
            "must be a mapping",
        ),
        ({"db": {"rotation": {"generator": 5}}}, "secrets.db.rotation.generator", "generator name"),
        ({"db": "required"}, "secrets.db", "expected a mapping"),
    ],
)
def test_bad_entries_name_the_key(data: dict[str, Any], key: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        inventory(data)
    assert (info.value.source, info.value.key) == ("s.yaml", key)
    assert message in info.value.reason


def test_the_settings_file_carries_the_inventory(tmp_path: Path) -> None:
    data = {
        "environments": {"dev": {"provider": "memory"}},
        "secrets": {"db/password": {"owner": "team-db", "rotation": {"interval": "30d"}}},
    }
    settings = parse_settings(data, source="s.yaml", base_dir=tmp_path)
    declared = settings.secrets.declared("db/password")
    assert declared is not None and declared.owner == "team-db"
    assert declared.rotation is not None and declared.rotation.interval == timedelta(days=30)
    with SecretManager.from_settings(settings) as manager:
        assert manager.inventory is settings.secrets
    with pytest.raises(ConfigError, match=r"^s.yaml: secrets: must map"):
        parse_settings({**data, "secrets": ["db/password"]}, source="s.yaml", base_dir=tmp_path)


def test_rotation_is_due_after_its_interval_on_a_fake_clock() -> None:
    clock = FakeClock()
    declared = inventory(
        {
            "db/password": {"rotation": {"interval": "30d"}},
            "api/key": {"rotation": {"interval": "7d"}},
            "static/token": {},
        }
    )
    with clock.installed():
        manager = SecretManager(MemoryProvider(), timer=clock, inventory=declared)
        for name in ("db/password", "api/key", "static/token"):
            manager.set(name, f"{name}-value-1")
        clock.advance(8 * DAY)
        assert due_names(inventory_status(manager, declared)) == ["api/key"]
        clock.advance(23 * DAY)
        rows = {row.name: row for row in inventory_status(manager, declared)}
        assert due_names(list(rows.values())) == ["db/password", "api/key"]
        assert rows["db/password"].next_due == clock.epoch + timedelta(days=30)
        assert rows["static/token"].next_due is None
        for name in due_names(list(rows.values())):
            manager.rotate(name)
        rows = {row.name: row for row in inventory_status(manager, declared)}
        assert due_names(list(rows.values())) == []
        assert rows["api/key"].last_rotated == clock.utcnow()
        assert rows["api/key"].next_due == clock.utcnow() + timedelta(days=7)
        assert rows["api/key"].as_dict()["age_seconds"] == 0


def test_an_unfinished_rotation_is_due_at_once() -> None:
    class Stop(BaseException):
        pass

    def stop(step: str) -> None:
        if step == "stored":
            raise Stop

    declared = inventory({"db/password": {"rotation": {"interval": "30d"}}})
    manager = SecretManager(MemoryProvider({"db/password": "v1"}), inventory=declared)
    with pytest.raises(Stop):
        manager.rotate("db/password", progress=stop)
    (row,) = inventory_status(manager, declared)
    assert row.due and row.unfinished is not None
    result = manager.rotate("db/password")
    assert result.resumed and result.rotation == row.unfinished
    assert not inventory_status(manager, declared)[0].due


def test_status_warns_before_expiry_and_check_fails_once_expired() -> None:
    clock = FakeClock()
    declared = inventory({"tls/key": {"warn_before_expiry": "7d"}, "db/password": {}})
    with clock.installed():
        manager = SecretManager(MemoryProvider(), timer=clock, inventory=declared)
        manager.set("tls/key", "k", expires_at=clock.utcnow() + timedelta(days=20))
        manager.set("db/password", "p", expires_at=clock.utcnow() + timedelta(days=20))

        def expiry() -> dict[str, str]:
            return {row.name: row.expiry for row in inventory_status(manager, declared)}

        assert expiry() == {"tls/key": "ok", "db/password": "ok"}
        clock.advance(10 * DAY)  # 10 days left: inside the 14-day default window only
        assert expiry() == {"tls/key": "ok", "db/password": "warning"}
        clock.advance(5 * DAY)
        assert expiry() == {"tls/key": "warning", "db/password": "warning"}
        clock.advance(5 * DAY)
        rows = inventory_status(manager, declared)
        assert [row.expiry for row in rows] == ["expired", "expired"]
        assert rows[0].failures == ["secret 'tls/key' expired"]
        assert rows[0].exists


def test_a_default_never_hides_an_expired_secret() -> None:
    clock = FakeClock()
    with clock.installed():
        manager = SecretManager(MemoryProvider(), timer=clock)
        manager.set("db/password", CANARY, expires_at=clock.utcnow() + timedelta(seconds=60))
        assert manager.resolve("${secret:db/password:-fallback}") == CANARY
        clock.advance(61)
        with pytest.raises(ResolutionError) as info:
            manager.resolve({"url": "${secret:db/password:-fallback}"})
        (failure,) = info.value.failures
        assert isinstance(failure.error, SecretExpired)
        assert "expired" in failure.reason
        with pytest.raises(SecretExpired):
            manager.value("${secret:db/password:-fallback}")
        with pytest.raises(SecretExpired):  # a cached value, read by the hit path
            manager.get("db/password")
        assert CANARY not in str(info.value)


def test_validation_names_the_rule_never_the_value() -> None:
    declared = inventory(
        {
            "db/password": {"validation": {"min_length": 64, "pattern": "^[a-z]+$"}},
            "db/creds": {"validation": {"json_fields": ["user", "password"]}},
            "api/*": {"validation": {"min_length": 4}},
            "cache/*": {},
            "optional/token": {"required": False},
            "required/token": {},
        }
    )
    manager = SecretManager(
        MemoryProvider(
            {
                "db/password": f"{CANARY}-1",
                "db/creds": '{"user": "app"}',
                "api/one": "long-enough",
                "api/two": "x",
            }
        ),
        inventory=declared,
    )
    failures = [f for row in inventory_status(manager, declared) for f in row.failures]
    assert failures == [
        "secret 'db/password' fails validation rule min_length 64",
        "secret 'db/password' fails validation rule pattern '^[a-z]+$'",
        "secret 'db/creds' fails validation rule json_fields: no field 'password'",
        "secret 'api/two' fails validation rule min_length 4",
        "the glob matches no secret",
        "required secret 'required/token' does not exist",
    ]
    assert not any(CANARY in failure for failure in failures)
