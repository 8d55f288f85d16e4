"""The OmegaConf adapter: the ``${secret:...}`` resolver, check(), masking, rotation.

Runs against the installed OmegaConf (2.4 in the dev venv) and, in a scratch venv,
against the oldest supported release (2.3.0); see docs/adapters/omegaconf.md.
"""

from __future__ import annotations

import copy
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

omegaconf = pytest.importorskip("omegaconf")

from omegaconf import DictConfig, OmegaConf  # noqa: E402
from omegaconf.basecontainer import BaseContainer  # noqa: E402
from omegaconf.errors import (  # noqa: E402
    GrammarParseError,
    InterpolationResolutionError,
    InterpolationToMissingValueError,
)

from secretwire import (  # noqa: E402
    MASK,
    ConfigError,
    FieldNotFound,
    InvalidSecret,
    ResolutionError,
    SecretManager,
    SecretNotFound,
    StoreKeyMismatch,
)
from secretwire.adapters import omegaconf as swo  # noqa: E402
from secretwire.providers.localfile import LocalFileProvider  # noqa: E402
from secretwire.providers.memory import MemoryProvider  # noqa: E402
from secretwire.testing import CANARY  # noqa: E402

SECRETS = {
    "db/password": CANARY,
    "db/port": "5432",
    "db/creds": '{"user": "app", "host": "db.internal"}',
    "app/prod/key": "prod-" + CANARY,
    "123": "numeric-" + CANARY,
    "1.5": "dotted-" + CANARY,
    "templated": "${secret:db/password}",
}


@pytest.fixture(autouse=True)
def restore_resolvers() -> Iterator[None]:
    """OmegaConf's resolver registry is global: snapshot and restore it (as
    OmegaConf's own tests/conftest.py does), with the adapter's own bookkeeping."""
    saved = copy.copy(BaseContainer._resolvers)
    installed = dict(swo._installed)
    yield
    BaseContainer._resolvers = saved
    swo._installed.clear()
    swo._installed.update(installed)


@pytest.fixture
def provider() -> MemoryProvider:
    return MemoryProvider(SECRETS)


@pytest.fixture
def manager(provider: MemoryProvider) -> Iterator[SecretManager]:
    with SecretManager(provider) as manager:
        yield manager


@pytest.fixture
def resolver(manager: SecretManager) -> swo.SecretResolver:
    return swo.register(manager)


def cfg_of(**values: Any) -> DictConfig:
    return OmegaConf.create(values)


# -- registration ------------------------------------------------------------------
def test_register_installs_the_secret_resolver(resolver: swo.SecretResolver) -> None:
    assert OmegaConf.has_resolver("secret")
    assert cfg_of(pw="${secret:db/password}").pw == CANARY


def test_register_uses_the_non_legacy_api_without_warnings(manager: SecretManager) -> None:
    # filterwarnings=error: a deprecated register_* call would fail this test; and on
    # 2.3 the legacy register_resolver() would refuse nested interpolation below.
    swo.register(manager)
    assert cfg_of(env="prod", key="${secret:app/${env}/key}").key == "prod-" + CANARY


def test_register_twice_is_idempotent(manager: SecretManager, provider: MemoryProvider) -> None:
    first = swo.register(manager)
    assert swo.register(manager) is first
    cfg = cfg_of(pw="${secret:db/password}")
    assert cfg.pw == CANARY
    assert cfg.pw == CANARY
    assert provider.calls["get"] == 1  # the cache survived the second register()


def test_register_with_another_manager_swaps_it(resolver: swo.SecretResolver) -> None:
    with SecretManager(MemoryProvider({"db/password": "other"})) as other:
        swapped = swo.register(other)
        assert swapped is not resolver
        assert cfg_of(pw="${secret:db/password}").pw == "other"


def test_register_refuses_someone_elses_resolver(manager: SecretManager) -> None:
    if _new_api():
        OmegaConf.register_resolver("secret", lambda name: "theirs")
    else:
        OmegaConf.register_new_resolver("secret", lambda name: "theirs")
    with pytest.raises(ConfigError, match="already registered by someone else"):
        swo.register(manager)
    assert cfg_of(pw="${secret:x}").pw == "theirs"
    assert swo.unregister() is False  # not ours: left alone
    assert cfg_of(pw="${secret:x}").pw == "theirs"
    swo.register(manager, replace=True)
    assert cfg_of(pw="${secret:db/password}").pw == CANARY


def _new_api() -> bool:
    import inspect

    return "use_cache" in inspect.signature(OmegaConf.register_resolver).parameters


def test_unregister_removes_it(resolver: swo.SecretResolver) -> None:
    assert swo.unregister() is True
    assert not OmegaConf.has_resolver("secret")
    assert swo.unregister() is False
    with pytest.raises(InterpolationResolutionError, match="Unsupported interpolation type"):
        _ = cfg_of(pw="${secret:db/password}").pw


def test_registered_restores_the_previous_resolver(resolver: swo.SecretResolver) -> None:
    with (
        SecretManager(MemoryProvider({"db/password": "inner"})) as inner,
        swo.registered(inner) as temporary,
    ):
        assert temporary is not resolver
        assert cfg_of(pw="${secret:db/password}").pw == "inner"
    assert cfg_of(pw="${secret:db/password}").pw == CANARY


def test_registered_leaves_nothing_behind(manager: SecretManager) -> None:
    with swo.registered(manager, name="vault_secret"):
        assert cfg_of(pw="${vault_secret:db/password}").pw == CANARY
    assert not OmegaConf.has_resolver("vault_secret")


def test_a_manager_built_from_settings_is_closed_by_unregister(tmp_path: Path) -> None:
    settings = tmp_path / "secretwire.yaml"
    settings.write_text(
        "environments:\n  ci:\n    provider: memory\n"
        "    options: {secrets: {db/password: from-settings}}\n"
    )
    resolver = swo.register(settings=settings)
    assert cfg_of(pw="${secret:db/password}").pw == "from-settings"
    manager = resolver.manager
    assert swo.unregister()
    with pytest.raises(Exception, match="closed"):
        manager.get("db/password")


def test_check_needs_the_resolver_registered() -> None:
    swo.unregister()
    with pytest.raises(ConfigError, match=r"call secretwire\.adapters\.omegaconf\.register"):
        swo.check(cfg_of(pw="${secret:db/password}"))


def test_missing_omegaconf_names_the_extra(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["omegaconf"] = None  # as if it were not installed
        from secretwire.adapters import omegaconf as swo  # importing costs nothing
        try:
            swo.register()
        except ImportError as err:
            print(err)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout
    assert "pip install 'secretwire[omegaconf]'" in out


# -- references in OmegaConf's grammar ---------------------------------------------------
def test_reference_inside_a_longer_string(resolver: swo.SecretResolver) -> None:
    cfg = cfg_of(url="postgres://app:${secret:db/password}@h:${secret:db/port}/db")
    assert cfg.url == f"postgres://app:{CANARY}@h:5432/db"


def test_nested_interpolation_builds_the_name(resolver: swo.SecretResolver) -> None:
    cfg = cfg_of(env="prod", key="${secret:app/${env}/key}")
    assert cfg.key == "prod-" + CANARY


@dataclass
class Database:
    host: str = "localhost"
    port: int = 0
    password: str = ""


@dataclass
class AppConfig:
    db: Database = field(default_factory=Database)


def test_typed_field_converts_the_secret(resolver: swo.SecretResolver) -> None:
    schema = OmegaConf.structured(AppConfig)
    cfg = OmegaConf.merge(
        schema, {"db": {"port": "${secret:db/port}", "password": "${secret:db/password}"}}
    )
    assert cfg.db.port == 5432
    assert isinstance(cfg.db.port, int)
    assert cfg.db.password == CANARY


def test_typed_field_rejects_a_value_without_showing_it(
    manager: SecretManager, resolver: swo.SecretResolver
) -> None:
    schema = OmegaConf.structured(AppConfig)
    cfg = OmegaConf.merge(schema, {"db": {"port": "${secret:db/password}"}})
    with pytest.raises(InterpolationResolutionError) as caught:
        _ = cfg.db.port
    text = str(caught.value)
    assert (
        "db.port: ${secret:db/password}: invalid secret: value of secret 'db/password' does not"
        in text
    )
    assert_no_canary(caught.value)
    with pytest.raises(ResolutionError) as checked:
        swo.check(cfg)
    assert isinstance(checked.value.failures[0].error, InvalidSecret)
    assert_no_canary(checked.value)


def test_typed_field_refuses_a_secret_inside_a_longer_string(
    resolver: swo.SecretResolver,
) -> None:
    cfg = OmegaConf.merge(OmegaConf.structured(AppConfig), {"db": {"port": "${secret:db/port}0"}})
    with pytest.raises(InterpolationResolutionError, match="part of a longer string") as caught:
        _ = cfg.db.port
    assert_no_canary(caught.value)


def test_integer_names_are_turned_back_into_text(resolver: swo.SecretResolver) -> None:
    assert cfg_of(v="${secret:123}").v == "numeric-" + CANARY


@pytest.mark.parametrize(
    ("written", "kind"),
    [("1.5", "float"), ("true", "bool"), ("null", "null")],
)
def test_names_read_as_float_bool_or_null_must_be_quoted(
    resolver: swo.SecretResolver, written: str, kind: str
) -> None:
    cfg = cfg_of(v="${secret:" + written + "}")
    with pytest.raises(InterpolationResolutionError, match=f"as {kind} .*quote it") as caught:
        _ = cfg.v
    assert_no_canary(caught.value)
    assert cfg_of(v="${secret:'1.5'}").v == "dotted-" + CANARY


def test_version_selector_needs_no_quotes(
    manager: SecretManager, resolver: swo.SecretResolver
) -> None:
    first = manager.versions("db/port")[0].version
    manager.set("db/port", "6543")
    cfg = cfg_of(old="${secret:db/port@" + first + "}", new="${secret:db/port}")
    assert (cfg.old, cfg.new) == ("5432", "6543")


def test_field_selector_needs_quotes(resolver: swo.SecretResolver) -> None:
    # '#' is not a character OmegaConf's grammar accepts unquoted: its own error.
    with pytest.raises(GrammarParseError):
        _ = cfg_of(user="${secret:db/creds#user}").user
    cfg = cfg_of(user="${secret:'db/creds#user'}", host='${secret:"db/creds#host"}')
    assert (cfg.user, cfg.host) == ("app", "db.internal")


def test_missing_field_names_the_field(resolver: swo.SecretResolver) -> None:
    with pytest.raises(InterpolationResolutionError, match="field 'nope' of secret 'db/creds'"):
        _ = cfg_of(v="${secret:'db/creds#nope'}").v


def test_defaults_in_both_spellings(resolver: swo.SecretResolver) -> None:
    cfg = cfg_of(
        a="${secret:missing:-fallback}",
        b="${secret:missing,fallback}",
        c="${secret:missing,null}",
        d="${secret:missing,8080}",
        e="${secret:db/password,unused}",
        f="${secret:'missing:-has, comma'}",
    )
    assert (cfg.a, cfg.b, cfg.c, cfg.d, cfg.f) == ("fallback", "fallback", None, 8080, "has, comma")
    assert cfg.e == CANARY


def test_default_given_twice_is_an_error(resolver: swo.SecretResolver) -> None:
    with pytest.raises(InterpolationResolutionError, match="not both"):
        _ = cfg_of(v="${secret:x:-a,b}").v


def test_no_name_is_an_error(resolver: swo.SecretResolver) -> None:
    with pytest.raises(InterpolationResolutionError, match="missing secret name"):
        _ = cfg_of(v="${secret:}").v


def test_a_default_never_hides_a_backend_failure(tmp_path: Path) -> None:
    store, key = tmp_path / "s.store", tmp_path / "k.key"
    writer = LocalFileProvider(path=store, key_file=key, create=True)
    writer.initialize()
    writer.set("db/password", CANARY)
    writer.close()
    other_key = tmp_path / "other.key"
    LocalFileProvider(path=tmp_path / "other.store", key_file=other_key, create=True).initialize()
    key.write_bytes(other_key.read_bytes())  # the wrong key: a real store error
    with SecretManager(LocalFileProvider(path=store, key_file=key)) as wrong:
        swo.register(wrong)
        cfg = cfg_of(pw="${secret:db/password,fallback}")
        with pytest.raises(InterpolationResolutionError, match="wrong key") as caught:
            _ = cfg.pw
    assert_no_canary(caught.value)
    cause = _resolution_error(caught.value)
    assert isinstance(cause.failures[0].error, StoreKeyMismatch)
    assert not isinstance(cause.failures[0].error, SecretNotFound)


def test_a_value_that_looks_like_a_reference_comes_back_literally(
    resolver: swo.SecretResolver,
) -> None:
    assert cfg_of(v="${secret:templated}").v == "${secret:db/password}"
    assert cfg_of(v="x-${secret:templated}").v == "x-${secret:db/password}"


def test_escaped_reference_stays_text(resolver: swo.SecretResolver) -> None:
    assert cfg_of(v="\\${secret:db/password}").v == "${secret:db/password}"


def test_angle_spelling_is_not_resolved_and_check_reports_it(
    resolver: swo.SecretResolver,
) -> None:
    cfg = cfg_of(db={"password": "$<secret:db/password>"})
    assert cfg.db.password == "$<secret:db/password>"  # OmegaConf: plain text
    with pytest.raises(ResolutionError) as caught:
        swo.check(cfg)
    (failure,) = caught.value.failures
    assert failure.location == "db.password"
    assert "write ${secret:...} instead" in failure.reason


def test_a_secret_inside_a_secret_name_is_refused(resolver: swo.SecretResolver) -> None:
    cfg = cfg_of(v="${secret:app/${secret:db/password}/key}")
    with pytest.raises(InterpolationResolutionError, match="cannot contain another") as caught:
        _ = cfg.v
    assert_no_canary(caught.value)
    with pytest.raises(ResolutionError) as checked:
        swo.check(cfg)
    assert_no_canary(checked.value)


# -- errors: one per failing node, one for the whole config ------------------------
def _resolution_error(err: BaseException) -> ResolutionError:
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, ResolutionError):
            return seen
        seen = seen.__cause__ or seen.__context__
    raise AssertionError(f"no ResolutionError behind {err!r}")


def _chain(err: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [err]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo += [item.__cause__, item.__context__]
        if isinstance(item, ResolutionError):
            todo += [failure.error for failure in item.failures]


def assert_no_canary(err: BaseException) -> None:
    for item in _chain(err):
        assert CANARY not in str(item)
        assert CANARY not in repr(item)
        assert CANARY not in repr(item.args)
        for name, value in vars(item).items():
            assert CANARY not in repr(value), name


def test_failing_node_error_has_reference_reason_and_key(resolver: swo.SecretResolver) -> None:
    cfg = cfg_of(
        sibling="${secret:db/password}",
        db={"url": "postgres://app:${secret:db/password}@${secret:db/host}/app"},
    )
    assert cfg.sibling == CANARY  # a sibling resolved first, on purpose
    with pytest.raises(InterpolationResolutionError) as caught:
        _ = cfg.db.url
    text = str(caught.value)
    assert "db.url: ${secret:db/host}: not found" in text
    assert "full_key: db.url" in text
    assert_no_canary(caught.value)
    cause = _resolution_error(caught.value)
    assert isinstance(cause.failures[0].error, SecretNotFound)


def test_check_lists_every_failure_in_one_error(
    resolver: swo.SecretResolver, provider: MemoryProvider
) -> None:
    cfg = cfg_of(
        ok="${secret:db/password}",
        db={
            "url": "pg://${secret:db/user}:${secret:db/pass}@h",
            "user": "${secret:'db/creds#login'}",
        },
        hosts=["${secret:db/password}", "${secret:hosts/b}"],
        fine="${secret:db/password}",
    )
    with pytest.raises(swo.SecretResolutionError) as caught:
        swo.check(cfg, source="config.yaml")
    err = caught.value
    assert isinstance(err, ResolutionError)
    assert isinstance(err, InterpolationResolutionError)  # OmegaConf's type too
    assert [(f.location, f.reference, f.reason) for f in err.failures] == [
        ("db.url", "${secret:db/user}", "not found"),
        ("db.url", "${secret:db/pass}", "not found"),
        (
            "db.user",
            "${secret:db/creds#login}",
            "field not found: field 'login' of secret 'db/creds'",
        ),
        ("hosts[1]", "${secret:hosts/b}", "not found"),
    ]
    assert err.headline == "4 secret reference(s) could not be resolved in config.yaml"
    assert isinstance(err.failures[2].error, FieldNotFound)
    assert_no_canary(err)
    # each distinct (name, version) was fetched once, together, before the walk
    assert provider.calls["get"] == 5


def test_check_passes_quietly_and_warms_the_cache(
    resolver: swo.SecretResolver, provider: MemoryProvider
) -> None:
    cfg = cfg_of(a="${secret:db/password}", b="x${secret:db/password}", c="${secret:db/port}")
    swo.check(cfg)
    assert provider.calls["get"] == 2
    assert (cfg.a, cfg.c) == (CANARY, "5432")
    assert provider.calls["get"] == 2


def test_check_lets_other_interpolation_errors_through(resolver: swo.SecretResolver) -> None:
    cfg = cfg_of(a="${secret:db/password}-${nope}", b="???", c="${b}")
    with pytest.raises(InterpolationResolutionError) as caught:
        swo.check(cfg)
    assert not isinstance(caught.value, ResolutionError)
    assert "nope" in str(caught.value)
    swo.check(cfg_of(b="???", c="${b}"))  # no secret nodes: nothing of ours to check
    with pytest.raises(InterpolationToMissingValueError):
        _ = cfg_of(b="???", c="${b}").c


@dataclass
class Reader:
    password: str = "${secret:db/password}"
    port: int = "${password}"  # type: ignore[assignment] - an int read from the str node


def test_check_reports_a_node_that_fails_on_a_secret_it_reads_indirectly(
    resolver: swo.SecretResolver, all_logs: pytest.LogCaptureFixture
) -> None:
    # OmegaConf's own messages quote the value: "Value '<secret>' could not be
    # converted to Integer" (typed node reading another node), "Environment variable
    # '<secret>' not found" (oc.env), "token recognition error at: '<part>'" (oc.decode)
    cfg = OmegaConf.structured(Reader)
    with pytest.raises(swo.SecretResolutionError) as caught:
        swo.check(cfg)
    assert [(f.location, f.reference) for f in caught.value.failures] == [
        ("port", "${secret:db/password}")
    ]
    assert "InterpolationValidationError" in caught.value.failures[0].reason
    assert_no_canary(caught.value)
    with pytest.raises(ResolutionError):  # resolve() checks first, so it never leaks
        swo.resolve(cfg, reveal=False)
    others = cfg_of(
        env="${oc.env:${secret:db/password}}",
        decoded="${oc.decode:${secret:db/password}}",
        key="${${secret:db/password}}",
    )
    with pytest.raises(swo.SecretResolutionError) as caught:
        swo.check(others)
    assert [f.location for f in caught.value.failures] == ["env", "decoded", "key"]
    assert_no_canary(caught.value)
    assert CANARY not in all_logs.text


def test_load_reports_file_and_lines(tmp_path: Path, resolver: swo.SecretResolver) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            app:
              name: demo
            db:
              password: ${secret:db/password}
              token: ${secret:api/token}
            hosts:
              - ${secret:hosts/a}
            """
        )
    )
    with pytest.raises(ResolutionError) as caught:
        swo.load(path)
    assert [f.location for f in caught.value.failures] == ["db.token (line 5)", "hosts[0] (line 7)"]
    assert str(path) in caught.value.headline
    path.write_text("db:\n  password: ${secret:db/password}\n")
    assert swo.load(path).db.password == CANARY


# -- masking -------------------------------------------------------------------------
def test_canary_never_shows(
    resolver: swo.SecretResolver, all_logs: pytest.LogCaptureFixture
) -> None:
    cfg = cfg_of(
        db={"password": "${secret:db/password}", "url": "pg://u:${secret:db/password}@h"},
        alias="${db.password}",
        missing="${secret:db/absent}",
    )
    assert cfg.db.password == CANARY and cfg.alias == CANARY  # values were read
    logging.getLogger("app").info("config %s / %r", cfg, cfg)
    shown = [repr(cfg), str(cfg), OmegaConf.to_yaml(cfg), all_logs.text]
    complete = OmegaConf.masked_copy(cfg, ["db", "alias"])
    shown.append(repr(swo.resolve(complete, reveal=False)))
    with pytest.raises(InterpolationResolutionError) as caught:
        _ = cfg.missing
    with pytest.raises(ResolutionError) as checked:
        swo.check(cfg)
    shown += [str(caught.value), str(checked.value), repr(resolver), repr(resolver.manager)]
    for text in shown:
        assert CANARY not in text
    assert_no_canary(caught.value)
    assert_no_canary(checked.value)
    assert "${secret:db/password}" in OmegaConf.to_yaml(cfg)


def test_resolve_masks_everything_a_secret_reached(resolver: swo.SecretResolver) -> None:
    cfg = cfg_of(
        name="demo",
        db={"password": "${secret:db/password}", "port": "${secret:db/port}", "host": "h"},
        alias="${db.password}",
        url="pg://${db.host}/x",
        hosts=["${secret:db/password}", "plain"],
        later="???",
    )
    assert swo.resolve(cfg, reveal=False) == {
        "name": "demo",
        "db": {"password": MASK, "port": MASK, "host": "h"},
        "alias": MASK,
        "url": "pg://h/x",
        "hosts": [MASK, "plain"],
        "later": "???",
    }
    revealed = swo.resolve(cfg)
    assert revealed["db"] == {"password": CANARY, "port": "5432", "host": "h"}
    assert revealed["alias"] == CANARY


# -- caching and rotation ------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rotation_is_seen_after_the_ttl_and_reads_within_it_hit_the_cache() -> None:
    provider = MemoryProvider({"db/password": "v1"})
    clock = FakeClock()
    with SecretManager(provider, timer=clock, cache_ttl=60) as manager:
        swo.register(manager)
        cfg = cfg_of(pw="${secret:db/password}", url="pg://u:${secret:db/password}@h")
        assert (cfg.pw, cfg.url) == ("v1", "pg://u:v1@h")
        for _ in range(10):
            assert cfg.pw == "v1"
        assert provider.calls["get"] == 1
        provider.set("db/password", "v2")  # rotated behind the manager's back
        clock.now += 30
        assert cfg.pw == "v1"  # still within the TTL: the cached value
        clock.now += 31
        assert (cfg.pw, cfg.url) == ("v2", "pg://u:v2@h")  # same config object
        assert provider.calls["get"] == 2
        assert manager.metrics().cache is not None
        assert manager.metrics().cache.hits >= 11  # type: ignore[union-attr]


# -- environments --------------------------------------------------------------------
def test_environment_variable_switches_the_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "secretwire.yaml").write_text(
        textwrap.dedent(
            """\
            environment_variable: APP_ENV
            default_environment: development
            environments:
              development:
                provider: memory
                options: {secrets: {db/password: dev-pw}}
              ci:
                provider: env
                options: {prefix: APP_SECRET_}
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("APP_SECRET_DB_PASSWORD", "ci-pw")
    cfg = cfg_of(pw="${secret:db/password}")
    monkeypatch.delenv("APP_ENV", raising=False)
    with swo.registered():
        assert cfg.pw == "dev-pw"
    monkeypatch.setenv("APP_ENV", "ci")
    with swo.registered() as resolver:
        assert cfg.pw == "ci-pw"
        assert resolver.manager.environment == "ci"
