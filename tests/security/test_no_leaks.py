"""Canary values never reach a log record, an error, a repr or a file on disk."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from secretwire import (
    FieldNotFound,
    ResolutionError,
    SecretManager,
    SecretwireError,
    StoreCorrupted,
)
from secretwire.providers.localfile import LocalFileProvider
from secretwire.testing import CANARY, error_texts


def _all_text(err: BaseException) -> str:
    return "\n".join(error_texts(err))


def test_full_flow_leaks_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    provider = LocalFileProvider(tmp_path / "s.store", key_file=tmp_path / "s.key")
    errors: list[BaseException] = []
    with SecretManager(provider) as manager:
        manager.set("app/token", CANARY, metadata={"owner": "me"})
        manager.set("app/json", '{"k": "' + CANARY + '"}')
        secret = manager.get("app/token")
        config = {"a": "${secret:app/token}", "b": "x${secret:app/json#k}y"}
        assert manager.resolve(config) == {"a": CANARY, "b": f"x{CANARY}y"}
        masked = manager.resolve(config, reveal=False)
        logging.getLogger("app").info("secret=%s value=%s cfg=%s", secret, secret.value, masked)
        for attempt in (
            lambda: manager.resolve({"c": "${secret:app/token#nope}", "d": "${secret:gone}"}),
            lambda: manager.value("app/json#missing"),
            lambda: manager.get("app/token", version="7"),
            lambda: manager.set("", CANARY),
        ):
            try:
                attempt()
            except SecretwireError as err:
                errors.append(err)
        texts = [repr(secret), str(secret), repr(manager), repr(manager.metrics()), repr(masked)]
        texts += [_all_text(err) for err in errors]
        texts.append(caplog.text)
        texts += [r.getMessage() + repr(r.args) for r in caplog.records]
        manager.delete("app/token")
    assert len(errors) == 4
    assert isinstance(errors[0], ResolutionError)
    assert isinstance(errors[1], FieldNotFound)
    assert any(r.name == "secretwire" for r in caplog.records)  # the library does log
    for text in texts:
        assert CANARY not in text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
                assert CANARY.encode(encoding) not in data, path


def test_corrupted_store_error_leaks_nothing(tmp_path: Path) -> None:
    provider = LocalFileProvider(tmp_path / "s.store", key_file=tmp_path / "s.key")
    provider.set("a", CANARY)
    data = bytearray((tmp_path / "s.store").read_bytes())
    data[-5] ^= 0x01
    (tmp_path / "s.store").write_bytes(bytes(data))
    fresh = LocalFileProvider(tmp_path / "s.store", key_file=tmp_path / "s.key")
    with pytest.raises(StoreCorrupted) as info:
        fresh.get("a")
    assert CANARY not in _all_text(info.value)


@pytest.mark.parametrize(
    ("provider", "options", "key"),
    [
        ("vault", {"url": "https://app:{canary}@vault.internal:8200", "token_env": "T"}, "url"),
        (
            "aws",
            {"region": "eu-west-1", "endpoint_url": "https://k:{canary}@sm.local"},
            "endpoint_url",
        ),
        (
            "aws",
            {"region": "eu-west-1", "sts_endpoint_url": "https://k:{canary}@sts.local"},
            "sts_endpoint_url",
        ),
        ("azure", {"vault_url": "https://u:{canary}@kv.vault.azure.net"}, "vault_url"),
    ],
)
def test_endpoint_urls_with_credentials_are_refused_without_echo(
    provider: str, options: dict[str, str], key: str, tmp_path: Path
) -> None:
    """Endpoints appear in reprs, errors and health details: a URL carrying a
    password is refused at construction, and the refusal does not repeat it."""
    from secretwire import ConfigError, get_provider_class

    filled = {k: v.replace("{canary}", CANARY) for k, v in options.items()}
    with pytest.raises(ConfigError) as info:
        get_provider_class(provider).from_options(filled, base_dir=tmp_path)
    assert info.value.key == key
    for text in (str(info.value), repr(info.value), repr(info.value.args)):
        assert CANARY not in text
    assert info.value.__cause__ is None
