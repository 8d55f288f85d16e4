"""Declared options and the one credential reader: never an echo of what was read."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretwire import ConfigError, SecretValue
from secretwire.providers.base import (
    HIDDEN,
    REQUIRED,
    Credential,
    CredentialSource,
    Option,
    Options,
)
from secretwire.testing import CANARY, assert_no_leak, check_option_tables, error_texts

OPTIONS = Options(
    Option("url", str, default=REQUIRED, nonempty=True, missing="the address is required"),
    Option("token", Credential, default_env="SWT_KIT_TOKEN", help="The token."),
    Option("ca_cert", Path, help="CA bundle."),
    Option("verify", (bool, Path), default=True, help="Verify TLS, or a CA bundle."),
    Option("timeout", float, default=10.0, help="Seconds."),
    Option("kv_version", int, choices=(1, 2), help="KV version."),
)


def parse(options: dict[str, object], base: Path) -> dict[str, object]:
    return OPTIONS.parse(options, base_dir=base, provider="kit")


def test_paths_are_taken_from_the_settings_folder(tmp_path: Path) -> None:
    values = parse({"url": "u", "ca_cert": "certs/ca.pem", "verify": "../ca.pem"}, tmp_path)
    assert values["ca_cert"] == tmp_path / "certs" / "ca.pem"
    assert values["verify"] == tmp_path / ".." / "ca.pem"
    assert parse({"url": "u", "ca_cert": "/abs/ca.pem"}, tmp_path)["ca_cert"] == Path("/abs/ca.pem")
    hidden = parse({"url": "u", "ca_cert": SecretValue("ca.pem")}, tmp_path)["ca_cert"]
    assert isinstance(hidden, SecretValue)
    assert hidden.reveal() == str(tmp_path / "ca.pem")


def test_types_choices_and_required(tmp_path: Path) -> None:
    assert parse({"url": "u", "timeout": 3, "verify": False}, tmp_path) == {
        "url": "u",
        "timeout": 3.0,
        "verify": False,
    }
    for options, key, words in (
        ({}, "url", "the address is required"),
        ({"url": ""}, "url", "non-empty string"),
        ({"url": "u", "timeout": "3"}, "timeout", "must be a number, not str"),
        ({"url": "u", "verify": 1}, "verify", "true or false or a path, not int"),
        ({"url": "u", "kv_version": 3}, "kv_version", "one of: 1, 2"),
        ({"url": "u", "token_env": 5}, "token_env", "must be a string, not int"),
    ):
        with pytest.raises(ConfigError, match=words) as info:
            parse(options, tmp_path)
        assert info.value.key == key


def test_an_option_value_is_never_echoed(tmp_path: Path) -> None:
    for options in (
        {"url": "u", "kv_version": CANARY},
        {"url": "u", "token_env": CANARY},  # the token given as a variable name by mistake
        {"url": "u", "timeout": SecretValue(CANARY)},  # from a bootstrap secret
    ):
        with pytest.raises(ConfigError) as info:
            parse(options, tmp_path)
        assert not any(CANARY in text for text in error_texts(info.value))
    # A value from a secret is not in any frame either (the plain mapping above is the
    # caller's own, in every frame that passes it on).
    assert_no_leak(info.value, CANARY)


def test_a_credential_is_exactly_one_of_three(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="give only one of token, token_env") as info:
        parse({"url": "u", "token": "t", "token_env": "VAR"}, tmp_path)
    assert info.value.key == "token_env"
    source = parse({"url": "u", "token_file": "tok"}, tmp_path)["token"]
    assert isinstance(source, CredentialSource)
    assert source.path == tmp_path / "tok"
    assert repr(source) == f"<token: file {tmp_path / 'tok'}>"
    # none given: the constructor builds the default source from the declaration
    assert "token" not in parse({"url": "u"}, tmp_path)
    default = OPTIONS["token"].source()
    assert default is not None and repr(default) == "<token: $SWT_KIT_TOKEN>"


def test_credential_sources_read_lazily_and_never_echo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = CredentialSource.of("token", f"  {CANARY}\n")
    assert given is not None and given.read().reveal() == CANARY
    assert repr(given) == "<token: given>"
    variable = CredentialSource.of("token", env="SWT_KIT_VAR")
    assert variable is not None
    monkeypatch.delenv("SWT_KIT_VAR", raising=False)
    with pytest.raises(ConfigError, match="SWT_KIT_VAR is not set or empty"):
        variable.read()
    monkeypatch.setenv("SWT_KIT_VAR", CANARY)  # set after the source was made
    assert variable.read().reveal() == CANARY
    hidden = CredentialSource.of("token", env=SecretValue("SWT_KIT_VAR"))
    assert hidden is not None and repr(hidden) == f"<token: ${HIDDEN}>"


def test_a_credential_file_that_is_not_text_leaves_no_bytes_behind(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_bytes(CANARY.encode() + b"\xff\xfe")
    source = CredentialSource.of("token", file=str(path))
    assert source is not None
    with pytest.raises(ConfigError, match=r"token file .* is not UTF-8 text") as info:
        source.read()
    assert info.value.__context__ is None
    assert info.value.key == "token_file"
    assert_no_leak(info.value, CANARY, repr(CANARY.encode())[2:-1])
    ascii_only = CredentialSource.of("token", file=str(path), ascii_only=True)
    path.write_text(CANARY, encoding="utf-8")  # é and ☃ are not ASCII
    assert ascii_only is not None
    with pytest.raises(ConfigError, match="has non-ASCII characters") as info:
        ascii_only.read()
    assert_no_leak(info.value, CANARY)
    path.write_text("   \n")
    with pytest.raises(ConfigError, match=r"token file .* is empty"):
        source.read()


def test_the_option_table_is_generated_from_the_declaration(tmp_path: Path) -> None:
    assert OPTIONS.table().splitlines()[2:4] == [
        "| `url` | string | required |  |",
        "| `token` / `token_env` / `token_file` | credential | `$SWT_KIT_TOKEN` | The token. |",
    ]
    assert "| `kv_version` | one of `1`, `2` | none | KV version. |" in OPTIONS.table()


def test_the_docs_option_tables_match_the_declarations() -> None:
    root = Path(__file__).resolve().parents[2] / "docs" / "providers"
    # Every provider page that marks an options table (<!-- options: NAME -->) is checked.
    pages = sorted(page for page in root.glob("*.md") if "<!-- options:" in page.read_text())
    builtins = {"memory", "env", "keyring", "azure", "file", "aws", "vault"}
    assert {page.stem for page in pages} >= builtins
    check_option_tables(pages)


def test_a_stale_option_table_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "env.md"
    page.write_text("# env\n\n<!-- options: env -->\n| Option | Type |\n|---|---|\n\ntext\n")
    with pytest.raises(AssertionError, match="differs from the declaration"):
        check_option_tables([page])
