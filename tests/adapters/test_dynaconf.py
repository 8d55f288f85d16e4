"""The dynaconf adapter: post hook and loader, on real dynaconf settings files.

Secrets come from a real settings file (``secretwire.yaml``) whose development
environment is the in-process ``memory`` provider and whose production environment
reads ``PROD_SECRET_*`` variables, so switching dynaconf's environment switches the
backend. Nothing here is mocked; one test uses a small provider that denies access,
an error path neither built-in provider can produce.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import pickle
import re
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dynaconf import Dynaconf, Validator
from dynaconf.validator import ValidationError

import secretwire.adapters.dynaconf as adapter
from secretwire import (
    MASK,
    AccessDenied,
    ConfigError,
    ResolutionError,
    SecretManager,
    SecretProvider,
    SecretValue,
)
from secretwire.adapters.dynaconf import SecretResolutionError, SecretwireHook, masked_dict
from secretwire.testing import CANARY

DEV = {
    "db/password": "dev-pw-{0}-@int 5",  # braces and a dynaconf token: stays text
    "db/creds": json.dumps({"user": "app", "host": "db.dev"}),
    "api/token": "dev-token",
    "literal": "${secret:api/token}",  # a value that looks like a reference
}
PROD = {"PROD_SECRET_DB_PASSWORD": "prod-pw", "PROD_SECRET_API_TOKEN": "prod-token"}

SETTINGS_TOML = """\
[default]
app_name = "demo"
literal = "${secret:literal}"
escaped = "$${secret:not/resolved}"
parsed_once = "@str @int 5"

[default.database]
user = "${secret:db/creds#user}"
password = "${secret:db/password}"
hosts = ["primary", "${secret:db/creds#host}"]
url = "@format postgres://{this.DATABASE.user}:$<secret:db/password>@host/db"

[default.features]
webhook = "${secret:git/webhook:-disabled}"

[development]
debug = true

[production]
debug = false
"""

HOOK_ONLY = pytest.mark.skipif(
    not adapter._HOOKS_SUPPORTED, reason="SecretwireHook needs dynaconf >= 3.2.2"
)
MODES = [pytest.param("hook", marks=HOOK_ONLY), "loader"]


def _secretwire_yaml(dev: dict[str, str]) -> str:
    return json.dumps(
        {
            "default_environment": "development",
            "environments": {
                "development": {"provider": "memory", "options": {"secrets": dev}},
                "production": {"provider": "env", "options": {"prefix": "PROD_SECRET_"}},
            },
        }
    )


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(("DYNACONF_", "SECRETWIRE_", "PROD_SECRET_", "APP_")) or name in (
            "ENV_FOR_DYNACONF",
            "SETTINGS_FILE_FOR_DYNACONF",
        ):
            monkeypatch.delenv(name)
    yield
    adapter.close_loader_managers()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "settings.toml").write_text(SETTINGS_TOML)
    (tmp_path / "secretwire.yaml").write_text(_secretwire_yaml(DEV))
    monkeypatch.chdir(tmp_path)
    return tmp_path


Factory = Callable[..., Any]


@pytest.fixture(params=MODES)
def make(request: pytest.FixtureRequest, project: Path) -> Factory:
    """Build dynaconf settings that resolve secrets the way the test is parametrized."""

    def build(**kwargs: Any) -> Any:
        kwargs.setdefault("settings_files", [str(project / "settings.toml")])
        kwargs.setdefault("environments", True)
        if request.param == "hook":
            kwargs.setdefault("post_hooks", [SecretwireHook(kwargs.pop("hook_manager", None))])
        else:
            kwargs.pop("hook_manager", None)
            kwargs["loaders"] = ["dynaconf.loaders.env_loader", adapter.LOADER]
        return Dynaconf(**kwargs)

    build.mode = request.param  # type: ignore[attr-defined]
    return build


def _manager(settings: Any) -> SecretManager:
    """The manager that served ``settings`` (to read its backend counters)."""
    hooks = [h for h in settings.get("POST_HOOKS") or [] if isinstance(h, SecretwireHook)]
    hook = hooks[0] if hooks else next(iter(adapter._loader_hooks.values()))
    return hook.manager_for(settings, adapter._dynaconf_environment(settings))


# -- resolution ---------------------------------------------------------------------
def test_nested_tables_lists_and_formats_are_resolved(make: Factory) -> None:
    settings = make()
    assert settings.DATABASE.password == DEV["db/password"]
    assert settings.database.user == "app"
    assert settings.DATABASE.hosts == ["primary", "db.dev"]
    assert settings.DATABASE.url == f"postgres://app:{DEV['db/password']}@host/db"
    assert settings.FEATURES.webhook == "disabled"  # default: the secret does not exist
    assert settings.APP_NAME == "demo"


def test_get_attribute_and_as_dict_agree(make: Factory) -> None:
    settings = make()
    password = DEV["db/password"]
    assert settings.get("database.password") == password
    assert settings.get("DATABASE")["password"] == password
    assert settings["DATABASE"]["password"] == password
    assert settings.DATABASE.password == password
    data = settings.as_dict()
    assert data["DATABASE"]["password"] == password
    assert data["DATABASE"]["hosts"] == ["primary", "db.dev"]
    assert data["DATABASE"]["url"] == settings.DATABASE.url


def test_values_are_taken_literally(make: Factory) -> None:
    settings = make()
    # a secret whose value looks like a reference is never resolved again
    assert settings.LITERAL == "${secret:api/token}"
    # nor parsed by dynaconf ("@int 5" in the password stays text)
    assert isinstance(settings.DATABASE.password, str)
    # escapes give the reference text; "@str" strings dynaconf parsed stay parsed once
    assert settings.ESCAPED == "${secret:not/resolved}"
    assert settings.PARSED_ONCE == "@int 5"


def test_environment_variable_values_are_resolved(
    make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DYNACONF_API_TOKEN", "${secret:api/token}")
    monkeypatch.setenv("DYNACONF_DATABASE__password", "$<secret:literal>")
    settings = make()
    assert settings.API_TOKEN == "dev-token"
    assert settings.DATABASE.password == "${secret:api/token}"
    assert settings.DATABASE.user == "app"  # the rest of the table is still there


def test_repeated_access_is_served_without_backend_calls(make: Factory) -> None:
    settings = make()
    assert settings.DATABASE.password
    manager = _manager(settings)
    calls = manager.metrics().backend.calls
    assert calls == 4  # db/password, db/creds, literal, git/webhook: each once
    for _ in range(50):
        assert settings.DATABASE.password == settings.get("database.password")
        settings.as_dict()
        assert settings.DATABASE.url
    assert manager.metrics().backend.calls == calls


def test_reloading_is_served_by_the_cache(make: Factory) -> None:
    settings = make()
    assert settings.DATABASE.password
    manager = _manager(settings)
    before = manager.metrics()
    settings.reload()
    settings.get("DATABASE", fresh=True)
    assert settings.DATABASE.password == DEV["db/password"]
    assert settings.LITERAL == "${secret:api/token}"  # still not resolved twice
    after = manager.metrics()
    # only git/webhook reached the backend again: it does not exist (its default
    # applies) and not-found is not cached; found secrets came from the cache
    assert after.backend.calls - before.backend.calls == 1
    assert after.backend.errors - before.backend.errors == 1
    assert after.cache is not None and before.cache is not None
    assert after.cache.hits > before.cache.hits


# -- environments -------------------------------------------------------------------
def test_env_for_dynaconf_switches_the_backend(
    make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENV_FOR_DYNACONF", "production")
    for name, value in PROD.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PROD_SECRET_DB_CREDS", json.dumps({"user": "u", "host": "db.prod"}))
    monkeypatch.setenv("PROD_SECRET_LITERAL", "plain")
    settings = make()
    assert settings.DEBUG is False
    assert settings.DATABASE.password == "prod-pw"
    assert settings.DATABASE.hosts == ["primary", "db.prod"]
    # a secret production lacks: the error says which environment
    monkeypatch.delenv("PROD_SECRET_LITERAL")
    adapter.close_loader_managers()  # the loader's managers (and caches) are process-wide
    with pytest.raises(SecretResolutionError) as caught:
        assert make().LITERAL
    assert caught.value.headline.endswith("(environment 'production')")
    assert "LITERAL" in str(caught.value)


def test_setenv_and_from_env_switch_the_backend(
    make: Factory, monkeypatch: pytest.MonkeyPatch, project: Path
) -> None:
    (project / "settings.toml").write_text(
        "[default]\npassword = '${secret:db/password}'\n[production]\nmode = 'prod'\n"
    )
    for name, value in PROD.items():
        monkeypatch.setenv(name, value)
    settings = make()
    assert DEV["db/password"] == settings.PASSWORD
    # dynaconf 3.3 does not pass post_hooks on to from_env's object: pass them along
    production = settings.from_env("production", post_hooks=settings.get("POST_HOOKS", []))
    assert production.PASSWORD == "prod-pw"
    assert DEV["db/password"] == settings.PASSWORD  # from_env leaves the original alone
    settings.setenv("production")
    assert settings.MODE == "prod"
    assert settings.PASSWORD == "prod-pw"
    settings.setenv("development")
    assert DEV["db/password"] == settings.PASSWORD
    with settings.using_env("production"):
        assert settings.PASSWORD == "prod-pw"


def test_without_dynaconf_environments_secretwire_selects(
    make: Factory, monkeypatch: pytest.MonkeyPatch, project: Path
) -> None:
    (project / "settings.toml").write_text("password = '${secret:db/password}'\n")
    monkeypatch.setenv("PROD_SECRET_DB_PASSWORD", "prod-pw")
    assert DEV["db/password"] == make(environments=False).PASSWORD  # default_environment
    adapter.close_loader_managers()
    monkeypatch.setenv("SECRETWIRE_ENV", "production")
    assert make(environments=False).PASSWORD == "prod-pw"


def test_a_dynaconf_environment_secretwire_lacks_is_an_error(make: Factory) -> None:
    settings = make(env="staging")
    with pytest.raises(ConfigError, match=r"dynaconf environment 'staging'.*unknown environment"):
        assert settings.DATABASE


def test_hook_pinned_to_an_environment(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not adapter._HOOKS_SUPPORTED:
        pytest.skip("SecretwireHook needs dynaconf >= 3.2.2")
    monkeypatch.setenv("PROD_SECRET_DB_PASSWORD", "prod-pw")
    (project / "settings.toml").write_text("[default]\npassword = '${secret:db/password}'\n")
    hook = SecretwireHook(settings_file=project / "secretwire.yaml", environment="production")
    settings = Dynaconf(settings_files=["settings.toml"], environments=True, post_hooks=[hook])
    assert settings.PASSWORD == "prod-pw"
    hook.close()


# -- @format and @jinja -------------------------------------------------------------
def test_dollar_brace_inside_format_is_a_clear_error(make: Factory, project: Path) -> None:
    (project / "settings.toml").write_text(
        "[default]\nurl = '@format postgres://app:${secret:db/password}@{this.HOST}/db'\n"
        "host = 'h'\n"
    )
    settings = make()
    with pytest.raises(SecretResolutionError) as caught:
        assert settings.URL
    message = str(caught.value)
    assert "URL" in message and "(@format)" in message
    assert "write $<secret:...>" in message
    assert DEV["db/password"] not in message


def test_format_with_a_cast(make: Factory, project: Path) -> None:
    (project / "settings.toml").write_text("[default]\nport = '@int @format 54$<secret:port>'\n")
    (project / "secretwire.yaml").write_text(_secretwire_yaml({"port": "32"}))
    assert make().PORT == 5432


@pytest.mark.parametrize("cast", ["@int", "@float", "@json"])
def test_a_failing_cast_never_shows_the_secret(
    make: Factory, project: Path, cast: str, all_logs: pytest.LogCaptureFixture
) -> None:
    # int()/float() and dynaconf's own cast errors put the text they got in their
    # message (and json.loads keeps it as .doc): here the text is the secret
    (project / "settings.toml").write_text(f"[default]\nport = '{cast} @format $<secret:port>'\n")
    (project / "secretwire.yaml").write_text(_secretwire_yaml({"port": CANARY}))
    settings = make()
    with pytest.raises(ValueError, match=r"\$<secret:port>") as caught:
        assert settings.PORT
    err: BaseException | None = caught.value
    assert isinstance(err, adapter._parse_conf.DynaconfParseError)
    while err is not None:
        assert CANARY not in f"{err} {err!r} {vars(err)}"
        err = err.__cause__ or err.__context__
    assert CANARY not in all_logs.text


def test_jinja_templates_get_secrets_as_text(make: Factory, project: Path) -> None:
    pytest.importorskip("jinja2", reason="dynaconf's @jinja needs jinja2")
    (project / "settings.toml").write_text(
        "[default]\nuser = 'app'\n"
        "dsn = '@jinja {{ this.USER }}:${secret:db/password}@$<secret:db/creds#host>'\n"
    )
    # "{0}" in the password is not template syntax: the value is inserted after rendering
    assert f"app:{DEV['db/password']}@db.dev" == make().DSN


# -- errors -------------------------------------------------------------------------
def test_every_missing_reference_is_reported_once_with_its_origin(
    make: Factory, monkeypatch: pytest.MonkeyPatch, project: Path
) -> None:
    (project / "settings.toml").write_text(
        "[default]\nok = '${secret:api/token}'\n"
        "[default.database]\npassword = '${secret:db/missing}'\n"
        "hosts = ['a', '${secret:db/missing-host}']\n"
        "url = '@format x:$<secret:db/missing>@{this.OK}'\n"
        "[development]\nbroken = '${secret:}'\n"
    )
    monkeypatch.setenv("DYNACONF_TOKEN", "${secret:env/missing}")
    settings = make(silent_errors_for_dynaconf=True)
    with pytest.raises(SecretResolutionError) as caught:
        assert settings.OK
    err = caught.value
    assert isinstance(err, ValidationError)  # what dynaconf users catch at start-up
    assert isinstance(err, ResolutionError)
    lines = str(err).splitlines()
    assert err.headline == (
        "5 secret reference(s) could not be resolved in dynaconf settings "
        "(environment 'development')"
    )
    assert lines[0] == err.headline + ":"
    toml = str(project / "settings.toml")
    assert f"  DATABASE.password ({toml} [default]): ${{secret:db/missing}}: not found" in lines
    assert f"  DATABASE.hosts[1] ({toml} [default]): ${{secret:db/missing-host}}: not found" in (
        lines
    )
    # (dynaconf 3.2 copies settings for a hook with nested @format values already
    # formatted, so there the location names neither the file nor "(@format)")
    assert any(
        line.startswith("  DATABASE.url") and line.endswith("$<secret:db/missing>: not found")
        for line in lines
    )
    assert any(line.startswith(f"  BROKEN ({toml} [development]): ${{secret:}}:") for line in lines)
    assert (
        "  TOKEN (environment variable DYNACONF_TOKEN): ${secret:env/missing}: not found" in lines
    )
    assert {f.reason for f in err.failures} >= {"not found"}
    copy = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own bytes
    assert isinstance(copy, SecretResolutionError)
    assert [str(f) for f in copy.failures] == [str(f) for f in err.failures]


def test_settings_stay_unavailable_after_a_failure(make: Factory, project: Path) -> None:
    (project / "settings.toml").write_text("[default]\npassword = '${secret:db/missing}'\n")
    settings = make()
    for _ in range(2):  # never a half-loaded object with references in it
        with pytest.raises(SecretResolutionError):
            assert settings.PASSWORD


class DenyingProvider(SecretProvider):
    """A backend that refuses every read (built-in providers cannot refuse)."""

    name = "denying"

    def get(self, name: str, *, version: str | None = None) -> Any:
        raise AccessDenied(name=name, provider=self.name)


@HOOK_ONLY
def test_access_denied_is_reported_not_defaulted_with_denying_provider(project: Path) -> None:
    (project / "settings.toml").write_text("[default]\nwebhook = '${secret:git/webhook:-off}'\n")
    with SecretManager(DenyingProvider()) as manager:
        settings = Dynaconf(settings_files=["settings.toml"], post_hooks=[SecretwireHook(manager)])
        with pytest.raises(SecretResolutionError, match="access denied") as caught:
            assert settings.WEBHOOK
        assert isinstance(caught.value.failures[0].error, AccessDenied)


def test_loader_before_the_env_loader_is_an_error(project: Path) -> None:
    settings = Dynaconf(
        settings_files=["settings.toml"],
        loaders=[adapter.LOADER, "dynaconf.loaders.env_loader"],
    )
    with pytest.raises(ConfigError, match=re.escape("after 'dynaconf.loaders.env_loader'")):
        assert settings.DATABASE


def test_loader_refuses_includes_the_hook_resolves_them(project: Path) -> None:
    (project / "extra.toml").write_text("[default]\ntoken = '${secret:api/token}'\n")
    included = Dynaconf(
        settings_files=["settings.toml"],
        environments=True,
        includes=["extra.toml"],
        loaders=["dynaconf.loaders.env_loader", adapter.LOADER],
    )
    with pytest.raises(ConfigError, match="INCLUDES_FOR_DYNACONF"):
        assert included.TOKEN
    if adapter._HOOKS_SUPPORTED:
        hooked = Dynaconf(
            settings_files=["settings.toml"],
            environments=True,
            includes=["extra.toml"],
            post_hooks=[SecretwireHook()],
        )
        assert hooked.TOKEN == "dev-token"


@pytest.mark.skipif(adapter._HOOKS_SUPPORTED, reason="only dynaconf < 3.2.2 refuses the hook")
def test_hook_on_old_dynaconf_says_to_use_the_loader(project: Path) -> None:
    settings = Dynaconf(
        settings_files=["settings.toml"], environments=True, post_hooks=[SecretwireHook()]
    )
    with pytest.raises(ConfigError, match=re.escape("needs dynaconf >= 3.2.2")):
        assert settings.DATABASE


def test_missing_dynaconf_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dynaconf", None)
    spec = importlib.util.spec_from_file_location("_dynaconf_adapter_copy", adapter.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with pytest.raises(ImportError, match=r"pip install 'secretwire\[dynaconf\]'"):
        spec.loader.exec_module(module)


# -- masking ------------------------------------------------------------------------
def test_masked_dict_is_safe_to_log(make: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DYNACONF_API_TOKEN", "${secret:api/token}")
    settings = make()
    dump = masked_dict(settings)
    assert dump["DATABASE"]["password"] == MASK
    assert dump["DATABASE"]["hosts"] == ["primary", MASK]
    assert dump["DATABASE"]["url"] == MASK
    assert dump["API_TOKEN"] == MASK
    assert dump["ESCAPED"] == "${secret:not/resolved}"  # no secret in it
    assert dump["APP_NAME"] == "demo"
    text = json.dumps(dump, default=str)
    assert all(value not in text for value in (*DEV.values(), "app", "db.dev"))


def test_masked_mode_keeps_secret_values(make: Factory) -> None:
    if make.mode == "hook":  # type: ignore[attr-defined]
        settings = make(post_hooks=[SecretwireHook(masked=True)])
    else:
        settings = make(secretwire_masked_for_dynaconf=True)
    password = settings.DATABASE.password
    assert isinstance(password, SecretValue)
    assert password.reveal() == DEV["db/password"]
    assert isinstance(settings.DATABASE.url, SecretValue)
    # $<secret:...> in the template gives the value ({this.DATABASE.user} formats a
    # SecretValue, which gives the mask on dynaconf 3.3: documented)
    assert settings.DATABASE.url.reveal().endswith(f":{DEV['db/password']}@host/db")
    assert settings.LITERAL.reveal() == "${secret:api/token}"
    assert settings.ESCAPED == "${secret:not/resolved}"  # not a secret: plain text
    printed = f"{settings.as_dict()} {settings.DATABASE!r} {settings.DATABASE}"
    assert DEV["db/password"] not in printed
    assert MASK in printed


def test_masked_mode_survives_validators(make: Factory) -> None:
    if make.mode == "hook":  # type: ignore[attr-defined]
        post_hooks = [SecretwireHook(masked=True)]
        settings = make(post_hooks=post_hooks)
    else:
        settings = make(secretwire_masked_for_dynaconf=True)
    settings.validators.register(
        Validator("DATABASE.password", must_exist=True, is_type_of=SecretValue)
    )
    settings.validators.validate()
    assert isinstance(settings.DATABASE.password, SecretValue)
    assert masked_dict(settings)["DATABASE"]["password"] == MASK


def test_canary_never_leaks(
    make: Factory, project: Path, all_logs: pytest.LogCaptureFixture
) -> None:
    logging.getLogger("dynaconf").setLevel(logging.DEBUG)
    (project / "secretwire.yaml").write_text(
        _secretwire_yaml({"guarded": CANARY, "creds": json.dumps({"password": CANARY})})
    )
    (project / "settings.toml").write_text(
        textwrap.dedent(
            """\
            [default]
            token = "${secret:guarded}"
            url = "@format x:$<secret:guarded>@{this.HOST}"
            host = "h"
            [default.nested]
            items = ["${secret:guarded}"]
            """
        )
    )
    settings = make()
    assert settings.TOKEN == CANARY  # resolved...
    assert f"x:{CANARY}@h" == settings.URL
    shown = [
        repr(settings),
        str(masked_dict(settings)),
        json.dumps(masked_dict(settings), default=str),
    ]
    for text in shown:
        assert CANARY not in text
    # masked mode: even dynaconf's own dumps and its inspect history show the mask
    if make.mode == "hook":  # type: ignore[attr-defined]
        masked = make(post_hooks=[SecretwireHook(masked=True)])
    else:
        adapter.close_loader_managers()
        masked = make(secretwire_masked_for_dynaconf=True)
    assert masked.TOKEN.reveal() == CANARY
    for text in (
        str(masked.as_dict()),
        repr(masked.NESTED),
        str(masked.loaded_by_loaders),
        json.dumps(masked.as_dict(), default=str),
    ):
        assert CANARY not in text
    # errors: a field the secret does not have, a missing secret next to it
    (project / "settings.toml").write_text(
        "[default]\na = '${secret:creds#nope}'\nb = '${secret:guarded#nope}'\nc = '${secret:x}'\n"
    )
    broken = make()
    with pytest.raises(SecretResolutionError) as caught:
        assert broken.A
    err: BaseException | None = caught.value
    while err is not None:
        assert CANARY not in str(err) and CANARY not in repr(err)
        for failure in getattr(err, "failures", ()):
            assert CANARY not in str(failure.error)
        err = err.__cause__ or err.__context__
    assert CANARY not in all_logs.text
    for record in all_logs.records:
        assert CANARY not in record.getMessage()
