"""The OmegaConf adapter: the ``${secret:...}`` resolver, check(), masking, rotation.

Runs against the installed OmegaConf (2.4 in the dev venv) and, in a scratch venv,
against the oldest supported release (2.3.0); see docs/adapters/omegaconf.md.
"""

from __future__ import annotations

import copy
import enum
import importlib.util
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

import pytest

omegaconf = pytest.importorskip("omegaconf")

from omegaconf import DictConfig, OmegaConf  # noqa: E402
from omegaconf.basecontainer import BaseContainer  # noqa: E402
from omegaconf.errors import (  # noqa: E402
    GrammarParseError,
    InterpolationKeyError,
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
from secretwire.testing import CANARY, FakeClock, assert_no_leak  # noqa: E402
from secretwire.testing.leaks import leak_texts  # noqa: E402

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
    assert_no_leak(caught.value, CANARY)
    with pytest.raises(ResolutionError) as checked:
        swo.check(cfg)
    assert isinstance(checked.value.failures[0].error, InvalidSecret)
    assert_no_leak(checked.value, CANARY)


def test_typed_field_refuses_a_secret_inside_a_longer_string(
    resolver: swo.SecretResolver,
) -> None:
    cfg = OmegaConf.merge(OmegaConf.structured(AppConfig), {"db": {"port": "${secret:db/port}0"}})
    with pytest.raises(InterpolationResolutionError, match="part of a longer string") as caught:
        _ = cfg.db.port
    assert_no_leak(caught.value, CANARY)


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
    assert_no_leak(caught.value, CANARY)
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
    assert_no_leak(caught.value, CANARY)
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
    assert_no_leak(caught.value, CANARY)
    with pytest.raises(ResolutionError) as checked:
        swo.check(cfg)
    assert_no_leak(checked.value, CANARY)


# -- errors: one per failing node, one for the whole config ------------------------
def _resolution_error(err: BaseException) -> ResolutionError:
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, ResolutionError):
            return seen
        seen = seen.__cause__ or seen.__context__
    raise AssertionError(f"no ResolutionError behind {err!r}")


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
    assert_no_leak(caught.value, CANARY)
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
    assert_no_leak(err, CANARY)
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
    assert_no_leak(caught.value, CANARY)
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
    assert_no_leak(caught.value, CANARY)
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


def test_check_returns_where_each_value_comes_from(resolver: swo.SecretResolver) -> None:
    cfg = cfg_of(
        db={"password": "${secret:db/password}", "url": "pg://${secret:'db/creds#user'}@h"},
        hook="${secret:git/webhook:-disabled}",
        alias="${db.password}",
    )
    provenance = swo.check(cfg)
    assert [(p.location, p.reference, p.provider, p.defaulted) for p in provenance] == [
        ("db.password", "${secret:db/password}", "memory", False),
        ("db.url", "${secret:db/creds#user}", "memory", False),
        ("hook", "${secret:git/webhook:-disabled}", None, True),
    ]
    assert provenance[0].version == "1"
    assert CANARY not in repr(provenance)


# -- reading a node without check(): OmegaConf's messages quote values ----------------
class Color(enum.Enum):
    RED = 1


@dataclass
class Consumers:
    """Typed nodes that read a secret through another node (``${password}``)."""

    password: str = "${secret:db/password}"
    port: int = "${password}"  # type: ignore[assignment]
    ratio: float = "${password}"  # type: ignore[assignment]
    flag: bool = "${password}"  # type: ignore[assignment]
    color: Color = "${password}"  # type: ignore[assignment]
    maybe: Optional[int] = "${password}"  # type: ignore[assignment]  # noqa: UP045
    ports: list[int] = field(default_factory=lambda: ["${password}"])


@pytest.mark.parametrize(
    ("key", "reads"),
    [
        ("port", lambda cfg: cfg.port),
        ("ratio", lambda cfg: cfg.ratio),
        ("flag", lambda cfg: cfg.flag),
        ("color", lambda cfg: cfg.color),
        ("maybe", lambda cfg: cfg.maybe),
        ("ports[0]", lambda cfg: cfg.ports[0]),
    ],
)
def test_a_typed_node_reading_a_secret_through_another_node_fails_without_the_value(
    resolver: swo.SecretResolver, key: str, reads: Any
) -> None:
    # Before: "Value '<secret>' of type 'str' could not be converted to Integer"
    cfg = OmegaConf.structured(Consumers)
    with pytest.raises(InterpolationResolutionError) as caught:
        reads(cfg)
    assert f"{key}: ${{secret:db/password}}: reading this node failed after it read" in str(
        caught.value
    )
    assert "InterpolationValidationError: not shown" in str(caught.value)
    assert_no_leak(caught.value, CANARY)
    assert isinstance(_resolution_error(caught.value).failures[0].error, InvalidSecret)
    assert cfg.password == CANARY  # the node that holds the reference still reads


def test_a_union_node_reading_a_secret_fails_without_the_value(
    resolver: swo.SecretResolver,
) -> None:
    @dataclass
    class Unions:
        password: str = "${secret:db/password}"
        direct: Union[int, float] = "${secret:db/password}"  # type: ignore[assignment]  # noqa: UP007
        through: Union[int, float] = "${password}"  # type: ignore[assignment]  # noqa: UP007

    cfg = OmegaConf.structured(Unions)
    for read in (lambda: cfg.direct, lambda: cfg.through):
        if omegaconf.__version__.startswith("2.3."):
            assert read() == CANARY  # 2.3 does not check an interpolation in a Union field
            continue
        with pytest.raises(InterpolationResolutionError) as caught:
            read()
        assert "reading this node failed after it read a secret" in str(caught.value)
        assert_no_leak(caught.value, CANARY)


@pytest.mark.parametrize(
    "text",
    [
        "${oc.env:${secret:db/password}}",  # Environment variable '<secret>' not found
        "${oc.decode:${secret:db/password}}",  # token recognition error at: '<part>'
        "${${secret:db/password}}",  # Interpolation key '<secret>' not found
        "${oc.env:${pw}}",  # the same, through another node
        "${${pw}}",
        "${pw.inner}",  # selecting into a string
    ],
)
def test_a_secret_handed_to_another_resolver_or_key_fails_without_the_value(
    resolver: swo.SecretResolver, all_logs: pytest.LogCaptureFixture, text: str
) -> None:
    cfg = cfg_of(pw="${secret:db/password}", v=text)
    with pytest.raises(InterpolationResolutionError) as caught:
        _ = cfg.v
    assert "v: ${secret:db/password}: reading this node failed after it read" in str(caught.value)
    assert_no_leak(caught.value, CANARY)
    with pytest.raises(swo.SecretResolutionError) as checked:
        swo.check(cfg)
    assert [f.location for f in checked.value.failures] == ["v"]
    assert_no_leak(checked.value, CANARY)
    assert CANARY not in all_logs.text


def test_a_secret_handed_to_another_resolver_works_when_nothing_fails(
    resolver: swo.SecretResolver,
) -> None:
    cfg = cfg_of(
        port="${oc.decode:${secret:db/port}}",
        picked="${oc.select:absent,${secret:db/password}}",
        user="${oc.select:creds.user}",
        creds={"user": "${secret:'db/creds#user'}"},
    )
    assert cfg.port == 5432
    assert (cfg.picked, cfg.user) == (CANARY, "app")
    swo.check(cfg)


@pytest.mark.parametrize(
    ("values", "read", "error"),
    [
        # a secret resolved, then the next one in the same string fails
        ({"u": "pg://${secret:db/password}@${secret:db/host}"}, "u", ResolutionError),
        # a secret resolved, then an ordinary interpolation fails
        ({"u": "${secret:db/password}-${nope}"}, "u", InterpolationKeyError),
        # the same, through two other nodes
        ({"a": "${secret:db/password}", "b": "${secret:db/host}", "u": "${a}${b}"}, "u", None),
    ],
)
def test_a_read_that_fails_after_a_value_leaves_no_value_in_frames(
    resolver: swo.SecretResolver,
    values: dict[str, Any],
    read: str,
    error: type[BaseException] | None,
) -> None:
    # OmegaConf's frames keep the parts of a string already resolved; the read is
    # replayed under check()'s rules before a value is handed to OmegaConf.
    cfg = cfg_of(**values)
    with pytest.raises(InterpolationResolutionError) as caught:
        _ = cfg[read]
    assert_no_leak(caught.value, CANARY)
    if error is InterpolationKeyError:
        assert isinstance(caught.value, InterpolationKeyError)
        assert "Interpolation key 'nope' not found" in str(caught.value)
    else:
        assert "${secret:db/host}: not found" in str(caught.value)
    with pytest.raises(InterpolationResolutionError) as checked:
        swo.check(cfg)
    assert_no_leak(checked.value, CANARY)


def test_a_read_is_replayed_once_however_many_secrets_it_reads(
    manager: SecretManager, resolver: swo.SecretResolver
) -> None:
    # Other resolvers in a replayed read run twice: once in the replay, once in the
    # read (before, once more per secret the read reached).
    calls: list[str] = []
    register = OmegaConf.register_resolver if _new_api() else OmegaConf.register_new_resolver
    register("count", lambda: calls.append("x") or "-", use_cache=False)
    cfg = cfg_of(pw="${secret:db/password}", u="${secret:db/password}${count:}${secret:db/port}")
    assert cfg.u == CANARY + "-5432"
    assert len(calls) == 2
    calls.clear()
    cfg = cfg_of(pw="${secret:db/password}", u="${pw}${count:}${pw}${secret:db/port}")
    assert cfg.u == CANARY + "-" + CANARY + "5432"
    assert len(calls) == 2


@dataclass
class Aliases:
    password: str = "${secret:db/password}"
    alias: Any = "${password}"
    text: str = "${alias}"
    nested: dict[str, Any] = field(default_factory=lambda: {"pw": "${password}"})
    port: int = "${password}"  # type: ignore[assignment]


def test_reads_that_cannot_fail_after_the_value_are_not_replayed(
    resolver: swo.SecretResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A spy on the real replay: a secret node of its own, and nodes that only pass
    # it on (an untyped or str node whose text is exactly ${<its key>}), read once.
    from secretwire.adapters.omegaconf import _reads

    replays: list[Any] = []
    real = _reads.dereference
    monkeypatch.setattr(_reads, "dereference", lambda node: replays.append(node) or real(node))
    cfg = OmegaConf.structured(Aliases)
    assert (cfg.password, cfg.alias, cfg.text, cfg.nested.pw) == (CANARY,) * 4
    assert replays == []
    relative = cfg_of(pw="${secret:db/password}", v="${.pw}")  # not exactly ${<key>}
    assert relative.v == CANARY
    with pytest.raises(InterpolationResolutionError, match="after it read a secret"):
        _ = cfg.port  # typed: replayed, and fails cleanly
    assert len(replays) == 2


def test_a_read_after_a_verified_read_is_verified_again(
    manager: SecretManager, provider: MemoryProvider, resolver: swo.SecretResolver
) -> None:
    # What one read's replay verified serves that read only: the next read of the
    # same node, after the second secret went away, fails before the first value
    # reaches OmegaConf.
    cfg = cfg_of(u="pg://${secret:db/password}@${secret:db/port}")
    assert cfg.u == f"pg://{CANARY}@5432"
    provider.delete("db/port")
    manager.invalidate("db/port")
    with pytest.raises(InterpolationResolutionError) as caught:
        _ = cfg.u
    assert "u: ${secret:db/port}: not found" in str(caught.value)
    assert_no_leak(caught.value, CANARY)


def test_a_secret_name_built_from_a_secret_value_is_refused(
    resolver: swo.SecretResolver,
) -> None:
    # Before: "v: ${secret:app/<secret>}: not found"
    cfg = cfg_of(other="${secret:db/password}", v="${secret:app/${other}}")
    with pytest.raises(InterpolationResolutionError, match="built from a secret's value") as caught:
        _ = cfg.v
    assert "v: ${secret:app/${other}}:" in str(caught.value)
    assert_no_leak(caught.value, CANARY)
    with pytest.raises(swo.SecretResolutionError) as checked:
        swo.check(cfg)
    assert_no_leak(checked.value, CANARY)
    assert cfg_of(env="prod", v="${secret:app/${env}/key}").v == "prod-" + CANARY


def test_check_and_load_errors_hold_no_value_in_frames(
    tmp_path: Path, resolver: swo.SecretResolver
) -> None:
    # check()'s own frames held the session with the values read, and the config
    # (which Sentry's serializer resolves, key by key, as a Mapping).
    path = tmp_path / "config.yaml"
    path.write_text(
        "ok: ${secret:db/password}\n"
        "port: ${oc.decode:${secret:db/password}}\n"
        "url: pg://${secret:db/password}@${secret:db/host}\n"
    )
    with pytest.raises(ResolutionError) as caught:
        swo.load(path)
    assert [f.location for f in caught.value.failures] == ["port (line 2)", "url (line 3)"]
    assert_no_leak(caught.value, CANARY)
    with pytest.raises(ResolutionError) as checked:
        swo.check(OmegaConf.structured(Consumers))
    assert_no_leak(checked.value, CANARY)


def test_errors_handed_on_by_check_and_resolve_are_copies_without_frames(
    resolver: swo.SecretResolver,
) -> None:
    # An error that is not about a secret is OmegaConf's, but its traceback's frames
    # hold what was resolved before it (to_container's dict of values).
    cfg = cfg_of(a="${secret:db/password}", b="${nope}", c="${secret:db/password}-${nope}")
    with pytest.raises(InterpolationKeyError) as checked:
        swo.check(cfg)
    assert "Interpolation key 'nope' not found" in str(checked.value)
    assert checked.value.__context__ is None and checked.value.__cause__ is None
    assert_no_leak(checked.value, CANARY)
    quiet = cfg_of(a="${secret:db/password}", b="${nope}")
    for reveal in (True, False):
        with pytest.raises(InterpolationKeyError) as caught:
            swo.resolve(quiet, reveal=reveal)
        assert_no_leak(caught.value, CANARY)


def test_an_error_tracker_serializing_a_config_in_frame_locals_sees_masks(
    tmp_path: Path, resolver: swo.SecretResolver
) -> None:
    # Sentry's serializer iterates Mappings it finds in frame locals: a DictConfig
    # resolves, key by key. An app error unrelated to the config, in a frame that
    # holds it, would send every secret to the tracker.
    pytest.importorskip("sentry_sdk")
    module = tmp_path / "app_module.py"  # frames of this test file are not checked
    module.write_text("def app(cfg):\n    raise RuntimeError('unrelated')\n")
    spec = importlib.util.spec_from_file_location("app_module", module)
    assert spec is not None and spec.loader is not None
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    cfg = cfg_of(db={"password": "${secret:db/password}", "host": "h"})
    with pytest.raises(RuntimeError) as caught:
        app.app(cfg)
    assert_no_leak(caught.value, CANARY)
    texts = "".join(leak_texts(caught.value))
    assert "**********" in texts and "'h'" in texts  # it was serialized
    assert cfg.db.password == CANARY  # reads outside the serializer are unchanged


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
    assert_no_leak(caught.value, CANARY)
    assert_no_leak(checked.value, CANARY)
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
def test_rotation_is_seen_after_the_ttl_and_reads_within_it_hit_the_cache() -> None:
    provider = MemoryProvider({"db/password": "v1"})
    clock = FakeClock(1000.0)
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


# -- the composed config picks the environment (secretwire.environment) -------------
@pytest.fixture
def two_environments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A settings file whose environments serve different values; $APP_ENV unset."""
    settings = tmp_path / "secretwire.yaml"
    settings.write_text(
        textwrap.dedent(
            """\
            environment_variable: APP_ENV
            default_environment: development
            environments:
              development:
                provider: memory
                options: {secrets: {db/password: dev-pw, env/name: ci}}
              ci:
                provider: memory
                options: {secrets: {db/password: ci-pw}}
            """
        )
    )
    monkeypatch.delenv("APP_ENV", raising=False)
    return settings


def test_the_config_picks_the_environment(two_environments: Path) -> None:
    resolver = swo.register(settings=two_environments)
    chosen = cfg_of(secretwire={"environment": "ci"}, pw="${secret:db/password}")
    plain = cfg_of(pw="${secret:db/password}")
    assert (chosen.pw, plain.pw) == ("ci-pw", "dev-pw")
    assert resolver.manager_for(chosen).environment == "ci"
    assert resolver.manager_for(plain) is resolver.manager
    assert resolver.manager.environment == "development"
    assert swo.check(chosen)[0].location == "pw"
    assert swo.resolve(chosen)["pw"] == "ci-pw"
    # read from the root, wherever the secret sits; built once per environment
    nested = cfg_of(secretwire={"environment": "ci"}, db={"pw": "${secret:db/password}"})
    assert nested.db.pw == "ci-pw"
    assert resolver.manager_for(nested.db) is resolver.manager_for(chosen)
    managers = [resolver.manager_for(chosen), resolver.manager]
    assert swo.unregister()
    for manager in managers:  # both were built here: both closed
        with pytest.raises(Exception, match="closed"):
            manager.get("db/password")


def test_the_environment_key_may_read_other_nodes_and_variables(
    two_environments: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    swo.register(settings=two_environments)
    by_group = cfg_of(
        env={"name": "ci"}, secretwire={"environment": "${env.name}"}, pw="${secret:db/password}"
    )
    assert by_group.pw == "ci-pw"
    by_variable = cfg_of(
        secretwire={"environment": "${oc.env:APP_ENV,development}"}, pw="${secret:db/password}"
    )
    assert by_variable.pw == "dev-pw"
    monkeypatch.setenv("APP_ENV", "ci")
    assert by_variable.pw == "ci-pw"


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ("${secret:env/name}", "secretwire.environment cannot read a secret"),
        ("prod", "picks environment 'prod' .*which the settings do not define; known: ci, dev"),
        (3, "must name an environment of the secretwire settings .*not int"),
        ("${oc.env:NO_SUCH_VARIABLE_H8}", "secretwire.environment could not be read"),
    ],
)
def test_a_bad_environment_key_is_a_config_error(
    two_environments: Path, environment: Any, message: str
) -> None:
    resolver = swo.register(settings=two_environments)
    cfg = cfg_of(secretwire={"environment": environment}, pw="${secret:db/password}")
    with pytest.raises(ConfigError, match=message):
        resolver.manager_for(cfg)
    with pytest.raises(ConfigError, match=message):
        swo.check(cfg)
    with pytest.raises(InterpolationResolutionError, match=message) as caught:
        _ = cfg.pw
    assert "dev-pw" not in str(caught.value)


def test_the_environment_key_must_agree_with_every_explicit_choice(
    two_environments: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = cfg_of(secretwire={"environment": "ci"}, pw="${secret:db/password}")
    monkeypatch.setenv("APP_ENV", "development")
    resolver = swo.register(settings=two_environments)
    with pytest.raises(ConfigError, match=r"picks environment 'ci' .*but \$APP_ENV is 'develop"):
        resolver.manager_for(cfg)
    monkeypatch.setenv("APP_ENV", "ci")  # agreeing is fine
    assert cfg.pw == "ci-pw"
    monkeypatch.delenv("APP_ENV")
    swo.register(settings=two_environments, environment="development")
    with pytest.raises(ConfigError, match="register\\(\\) was given environment='development'"):
        swo.check(cfg)
    with SecretManager(MemoryProvider({"db/password": "given"})) as given:
        swo.register(given)
        with pytest.raises(ConfigError, match="registered with a manager for None"):
            swo.check(cfg)
    with SecretManager(MemoryProvider({"db/password": "given-ci"}), environment="ci") as given:
        swo.register(given)
        assert cfg.pw == "given-ci"


def test_environment_key_none_turns_the_key_off(two_environments: Path) -> None:
    swo.register(settings=two_environments, environment_key=None)
    assert cfg_of(secretwire={"environment": "ci"}, pw="${secret:db/password}").pw == "dev-pw"
    swo.register(settings=two_environments, environment_key="app.secret_env")
    assert cfg_of(app={"secret_env": "ci"}, pw="${secret:db/password}").pw == "ci-pw"
