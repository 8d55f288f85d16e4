"""The dynaconf adapter: post hook and loader, on real dynaconf settings files.

Secrets come from a real settings file (``secretwire.yaml``) whose development
environment is the in-process ``memory`` provider and whose production environment
reads ``PROD_SECRET_*`` variables, so switching dynaconf's environment switches the
backend. Nothing here is mocked; one test uses a small provider that denies access,
an error path neither built-in provider can produce.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import pickle
import re
import subprocess
import sys
import textwrap
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dynaconf import Dynaconf, Validator
from dynaconf.utils.parse_conf import DynaconfParseError, Lazy
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
from secretwire.testing import CANARY, assert_no_leak

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
            adapter.install()  # as the docs tell loader users (a hook does it when created)
        return Dynaconf(**kwargs)

    build.mode = request.param  # type: ignore[attr-defined]
    return build


def _manager(settings: Any) -> SecretManager:
    """The manager that served ``settings`` (to read its backend counters): hook and
    loader use secretwire's shared manager of the dynaconf environment."""
    return SecretwireHook().manager_for(settings, settings.current_env.lower())


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
    # nothing reached the backend again: found secrets came from the cache, and
    # git/webhook (which does not exist: its default applies) from its negative entry
    assert after.backend.calls - before.backend.calls == 0
    assert after.cache is not None and before.cache is not None
    assert after.cache.hits > before.cache.hits
    assert after.negative_hits > before.negative_hits


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


NESTED_CAST_TOML = """\
[default.database]
host = "localhost"
port = "@int @format $<secret:db/port>"
url = "@format {this.DATABASE.host}:$<secret:db/port>"
"""


@pytest.mark.parametrize(
    "override",
    [
        {},
        {"DYNACONF_DATABASE__HOST": "pg"},  # any other key of the table
        {"DYNACONF_DATABASE__PORT": "@int @format 1$<secret:db/port>"},  # the cast itself
        {"DYNACONF_DATABASE": '{dynaconf_merge=true, user="u"}'},  # the table, merged
    ],
    ids=["no-override", "other-key", "same-key", "whole-table"],
)
def test_format_with_a_cast_inside_a_table(
    make: Factory, project: Path, monkeypatch: pytest.MonkeyPatch, override: dict[str, str]
) -> None:
    # dynaconf evaluates a table's lazy values while it merges an env var into it
    # (and 3.2 also while it copies the settings for a hook): the cast must not run
    # on the reference text then.
    (project / "settings.toml").write_text(NESTED_CAST_TOML)
    (project / "secretwire.yaml").write_text(_secretwire_yaml({"db/port": "5432"}))
    for name, value in override.items():
        monkeypatch.setenv(name, value)
    settings = make()
    host = "pg" if "DYNACONF_DATABASE__HOST" in override else "localhost"
    port = 15432 if "DYNACONF_DATABASE__PORT" in override else 5432
    assert settings.DATABASE.port == port
    assert settings.DATABASE.host == host
    assert settings.DATABASE.url == f"{host}:5432"
    assert settings.get("database.port") == port
    assert settings.as_dict()["DATABASE"]["port"] == port
    assert masked_dict(settings)["DATABASE"]["port"] == MASK


@pytest.mark.parametrize("cast", ["@int", "@float", "@json"])
@pytest.mark.parametrize("nested", [False, True], ids=["top", "table"])
def test_a_failing_cast_is_reported_at_load_without_the_secret(
    make: Factory,
    project: Path,
    cast: str,
    nested: bool,
    monkeypatch: pytest.MonkeyPatch,
    all_logs: pytest.LogCaptureFixture,
) -> None:
    # int()/float() and dynaconf's own cast errors put the text they got in their
    # message (and json.loads keeps it as .doc): here the text is the secret. The cast
    # is tried at load time, so the error is secretwire's, with every other failure.
    logging.getLogger("dynaconf").setLevel(logging.DEBUG)
    table = "[default.database]\n" if nested else "[default]\n"
    (project / "settings.toml").write_text(
        f"{table}port = '{cast} @format $<secret:port>'\nother = '${{secret:guarded}}'\n"
    )
    (project / "secretwire.yaml").write_text(_secretwire_yaml({"port": CANARY, "guarded": CANARY}))
    if nested:
        monkeypatch.setenv("DYNACONF_DATABASE__HOST", "pg")  # dynaconf merges the table
    settings = make()
    with pytest.raises(SecretResolutionError) as caught:
        assert settings.DATABASE.port if nested else settings.PORT
    (failure,) = caught.value.failures
    assert failure.location.startswith("DATABASE.port (" if nested else "PORT (")
    assert failure.location.endswith("(@format)")
    assert failure.reference == "$<secret:port>"
    assert failure.reason == "the cast failed on the rendered text (not shown: it holds a secret)"
    assert_no_leak(caught.value, CANARY)
    assert CANARY not in all_logs.text


def test_a_cast_failing_only_on_access_never_shows_the_secret(
    make: Factory, project: Path, all_logs: pytest.LogCaptureFixture
) -> None:
    # The template reads another setting, changed after the load (the load-time check
    # passed): the cast fails on access, inside dynaconf; the error names the
    # references, never the text, and chains nothing.
    (project / "settings.toml").write_text(
        "[default]\nprefix = '54'\nport = '@int @format {this.PREFIX}$<secret:port>'\n"
    )
    (project / "secretwire.yaml").write_text(_secretwire_yaml({"port": "32"}))
    settings = make()
    assert settings.PORT == 5432
    settings.set("PREFIX", "x-")
    with pytest.raises(ValueError, match=r"\$<secret:port>") as caught:
        assert settings.PORT
    err = caught.value
    assert isinstance(err, DynaconfParseError)
    assert "32" not in str(err)
    assert err.__cause__ is None
    assert err.__context__ is None
    assert "x-32" not in all_logs.text
    # (not assert_no_leak: dynaconf's frames on this path hold the settings, whose repr
    # evaluates the failing value again; the docs say so)


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
    # (dynaconf 3.2 formats nested @format values when it copies settings for a hook;
    # one holding a reference is kept unevaluated, so it is named like the others)
    assert f"  DATABASE.url ({toml} [default]) (@format): $<secret:db/missing>: not found" in lines
    assert any(line.startswith(f"  BROKEN ({toml} [development]): ${{secret:}}:") for line in lines)
    assert (
        "  TOKEN (environment variable DYNACONF_TOKEN): ${secret:env/missing}: not found" in lines
    )
    assert {f.reason for f in err.failures} >= {"not found"}
    copy = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own bytes
    assert isinstance(copy, SecretResolutionError)
    assert [str(f) for f in copy.failures] == [str(f) for f in err.failures]
    assert_no_leak(err, DEV["api/token"])  # OK resolved, its value is not kept


def test_settings_stay_unavailable_after_a_failure(make: Factory, project: Path) -> None:
    (project / "settings.toml").write_text("[default]\npassword = '${secret:db/missing}'\n")
    settings = make()
    for _ in range(2):  # never a half-loaded object with references in it
        with pytest.raises(SecretResolutionError):
            assert settings.PASSWORD


class DenyingProvider(SecretProvider):
    """A backend that refuses every read (built-in providers cannot refuse)."""

    name = "denying"

    def _get(self, name: str, version: str | None) -> Any:
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
    for name in [n for n in sys.modules if n.startswith(adapter.__name__)]:
        monkeypatch.delitem(sys.modules, name)  # a fresh import; put back afterwards
    with pytest.raises(ImportError) as caught:
        importlib.import_module(adapter.__name__)
    assert str(caught.value) == (
        "dynaconf is not installed; install it with: pip install 'secretwire[dynaconf]'"
    )


# -- what the adapter changes in dynaconf ---------------------------------------------
FRESH_PROCESS = """\
import os, sys
from dynaconf import Dynaconf, Validator
from dynaconf.utils import parse_conf

def wrapped():
    converters = parse_conf.converters
    current = (converters["@format"], converters["@jinja"], Validator.validate)
    return [hasattr(item, "__secretwire__") for item in current]

import secretwire.adapters.dynaconf as adapter
print("import", wrapped())
if sys.argv[1] == "hook":
    hook = adapter.SecretwireHook()
    print("hook", wrapped())
    before = parse_conf.converters["@format"], Validator.validate
    adapter.SecretwireHook(), adapter.install()
    print("again", (parse_conf.converters["@format"], Validator.validate) == before)
    sys.exit()
loaders = ["dynaconf.loaders.env_loader", adapter.LOADER]
if sys.argv[1] == "install":
    adapter.install()
elif sys.argv[1] == "earlier-load":
    Dynaconf(settings_files=["other.toml"], loaders=loaders).get("X")
kwargs = {"settings_files": ["settings.toml"], "environments": True, "loaders": loaders}
print("loaded", wrapped())
try:
    print("port", Dynaconf(**kwargs).DATABASE.port)
except Exception as err:
    print("error", type(err).__name__)
"""


def _fresh_process(project: Path, how: str) -> list[str]:
    (project / "settings.toml").write_text(NESTED_CAST_TOML)
    (project / "other.toml").write_text("x = 1\n")
    (project / "secretwire.yaml").write_text(_secretwire_yaml({"db/port": "5432"}))
    env = {**os.environ, "DYNACONF_DATABASE__HOST": "pg"}  # dynaconf merges the table
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, how],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_importing_the_adapter_changes_nothing_a_hook_installs_once(project: Path) -> None:
    assert _fresh_process(project, "hook") == [
        "import [False, False, False]",
        "hook [True, True, True]",
        "again True",
    ]


@pytest.mark.parametrize("how", ["install", "earlier-load", "first-load"])
def test_the_loader_installs_on_its_first_run(project: Path, how: str) -> None:
    # dynaconf imports a loader after it has read the settings files: a first settings
    # object read before install() keeps dynaconf's own @format values, and merging
    # an environment variable into their table runs the cast on the reference text.
    lines = _fresh_process(project, how)
    assert lines[0] == "import [False, False, False]"
    if how == "first-load":
        assert lines[1:] == ["loaded [False, False, False]", "error DynaconfParseError"] or (
            lines[1:] == ["loaded [False, False, False]", "error ValueError"]  # dynaconf 3.2
        )
    else:
        assert lines[1:] == ["loaded [True, True, True]", "port 5432"]


def test_the_wrappers_leave_settings_without_secretwire_alone(
    make: Factory, project: Path, tmp_path: Path
) -> None:
    shared = "shared-text-5678"  # a secret's text that plain settings also hold
    (project / "settings.toml").write_text("[default]\ntoken = '${secret:guarded}'\n")
    (project / "secretwire.yaml").write_text(_secretwire_yaml({"guarded": shared}))
    settings = make()
    assert shared == settings.TOKEN  # wrappers installed, the secret held
    other = tmp_path / "other.toml"
    other.write_text(f"token = '{shared}'\nurl = '@format x:$<secret:guarded>'\n")
    plain = Dynaconf(settings_files=[str(other)])
    assert type(dict.__getitem__(plain.store, "URL")) is Lazy  # dynaconf's own value
    assert plain.URL == "x:$<secret:guarded>"
    # the plain settings' error is dynaconf's own, raised where dynaconf raised it
    for each, shown, raiser in ((plain, shared, "validator.py"), (settings, MASK, "_guard.py")):
        each.validators.register(Validator("TOKEN", len_min=400))
        with pytest.raises(ValidationError) as caught:
            each.validators.validate()
        assert f"TOKEN must len_min 400 but it is {shown}" in str(caught.value)
        assert traceback.extract_tb(caught.value.__traceback__)[-1].filename.endswith(raiser)


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


VALIDATED_TOML = """\
[default]
token = "${secret:guarded}"
port = "@int @format $<secret:port>"
[default.database]
password = "${secret:guarded}"
user = "readonly"
"""


def _validated(make: Factory, project: Path) -> Any:
    (project / "settings.toml").write_text(VALIDATED_TOML)
    (project / "secretwire.yaml").write_text(_secretwire_yaml({"guarded": CANARY, "port": "5432"}))
    return make()


def test_masked_dict_still_masks_keys_a_validator_checked(
    make: Factory, project: Path, all_logs: pytest.LogCaptureFixture
) -> None:
    settings = _validated(make, project)
    settings.validators.register(
        Validator("DATABASE.password", "TOKEN", must_exist=True, len_min=8),
        Validator("PORT", gt=1000),
        Validator("TOKEN", cast=lambda value: value.strip()),  # writes back a new str
    )
    settings.validators.validate()
    assert settings.DATABASE.password == CANARY  # validators wrote the plain value back...
    dump = masked_dict(settings)
    assert dump["DATABASE"] == {"password": MASK, "user": "readonly"}  # ...still masked
    assert dump["TOKEN"] == MASK
    assert dump["PORT"] == MASK
    logging.getLogger("test").info("settings: %s", dump)
    assert CANARY not in json.dumps(dump, default=str) + all_logs.text
    assert CANARY not in str(settings.loaded_by_loaders)


def _validation_error(settings: Any, how: str) -> BaseException:
    def run() -> None:
        if how == "validate":
            settings.validators.validate()
        elif how == "validate_all":
            settings.validators.validate_all()
        else:
            assert settings.DATABASE.password  # validators=[...] run on load

    with pytest.raises(ValidationError) as caught:
        run()
    return caught.value


@pytest.mark.parametrize("how", ["validate", "validate_all", "on-load"])
def test_a_failing_validator_never_shows_the_secret(
    make: Factory,
    project: Path,
    how: str,
    capsys: pytest.CaptureFixture[str],
    all_logs: pytest.LogCaptureFixture,
) -> None:
    validators = [
        Validator("DATABASE.password", len_min=400),  # "... but it is <value> ..."
        Validator("TOKEN", condition=lambda value: value.startswith("x")),  # "...(<value>)"
        Validator("DATABASE.user", len_min=400) | Validator("TOKEN", eq="other"),
        Validator("DATABASE.user", len_min=1),  # passes
    ]
    if how == "on-load":
        (project / "settings.toml").write_text(VALIDATED_TOML)
        (project / "secretwire.yaml").write_text(
            _secretwire_yaml({"guarded": CANARY, "port": "5432"})
        )
        settings = make(validators=validators[:1])
    else:
        settings = _validated(make, project)
        assert settings.TOKEN == CANARY
        settings.validators.register(*(validators if how == "validate_all" else validators[:1]))
    err = _validation_error(settings, how)
    message = str(err)
    assert "DATABASE.password must len_min 400 but it is ********** in env" in message
    if how == "validate_all":
        assert "TOKEN invalid for <lambda>(**********)" in message
        assert "DATABASE.user must len_min 400 but it is readonly" in message  # no secret
    assert err.__context__ is None and err.__cause__ is None
    assert_no_leak(err, CANARY)
    logging.getLogger("test").exception("validation failed", exc_info=err)
    out = capsys.readouterr()
    assert CANARY not in out.out + out.err + all_logs.text


def test_a_validator_error_without_a_secret_keeps_its_text(make: Factory, project: Path) -> None:
    settings = _validated(make, project)
    settings.validators.register(Validator("DATABASE.user", eq="root"))
    with pytest.raises(ValidationError) as caught:
        settings.validators.validate()
    assert str(caught.value) == "DATABASE.user must eq root but it is readonly in env DEVELOPMENT"


FAILED_LOADS = {
    # some references resolve (their values exist while the load fails), others fail
    "backend": (
        "[default]\nok = '${secret:guarded}'\nurl = '@format x:$<secret:guarded>'\n"
        "[default.database]\npassword = '${secret:creds#password}'\nbad = '${secret:x}'\n"
        "field = '${secret:creds#nope}'\nbroken = '${secret:}'\n",
        3,
    ),
    # every reference resolves; a template is refused by the adapter itself
    "template": (
        "[default]\nok = '${secret:guarded}'\nurl = '@format x:${secret:guarded}'\n"
        "[default.database]\npassword = '${secret:creds#password}'\n",
        1,
    ),
}


@pytest.mark.parametrize("case", sorted(FAILED_LOADS))
def test_errors_on_a_failed_load_hold_no_value_in_their_frames(
    make: Factory, project: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    toml, count = FAILED_LOADS[case]
    (project / "secretwire.yaml").write_text(
        _secretwire_yaml({"guarded": CANARY, "creds": json.dumps({"password": CANARY})})
    )
    (project / "settings.toml").write_text(toml)
    if case == "backend":
        monkeypatch.setenv("DYNACONF_DATABASE__HOST", "pg")
    settings = make()
    with pytest.raises(SecretResolutionError) as caught:
        assert settings.OK
    assert len(caught.value.failures) == count
    assert_no_leak(caught.value, CANARY)


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
    assert_no_leak(caught.value, CANARY)
    err: BaseException | None = caught.value
    while err is not None:
        assert CANARY not in str(err) and CANARY not in repr(err)
        for failure in getattr(err, "failures", ()):
            assert CANARY not in str(failure.error)
        err = err.__cause__ or err.__context__
    assert CANARY not in all_logs.text
    for record in all_logs.records:
        assert CANARY not in record.getMessage()
