"""The settings keys ``policy:`` and ``audit:``, and the layers they ask for.

``settings.py`` registers the two keys and calls :func:`parse_governance`; the
manager's builder calls :meth:`Governance.layers`::

    audit:
      sinks: [{file: logs/audit.jsonl}, stderr]   # file, stdout, stderr, logging, syslog
      key_file: .secretwire/audit.key             # or key_env: SECRETWIRE_AUDIT_KEY
      hash_names: false        # true: names appear as their HMAC
      fail_open: false         # true: a sink failure loses records, not operations
      checkpoint_every: 1000   # records between two checkpoints
      sync: interval           # fsync: interval (sync_interval seconds), always, never
      sync_interval: 1.0

Every error names the file, the line and the key.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..pipeline import Handler, LayerFactory

# The trail, the policy and the layers load when a settings file asks for them
# (python -X importtime: settings without policy: or audit: never pay for them).
if TYPE_CHECKING:
    from .audit import AuditTrail
    from .chain import AuditKey
    from .policy import Policy, _Parser
    from .sinks import Sink

__all__ = ["AuditSettings", "Governance", "governance_layers", "parse_governance"]

_AUDIT_KEYS = {
    "sinks",
    "key_file",
    "key_env",
    "hash_names",
    "fail_open",
    "checkpoint_every",
    "sync",
    "sync_interval",
}
_SINK_KINDS = ("file", "stdout", "stderr", "logging", "syslog")
_SYNC = ("interval", "always", "never")


@dataclass(frozen=True)
class AuditSettings:
    """The ``audit:`` key, checked; :meth:`open` builds the trail (reads the key)."""

    sinks: tuple[tuple[str, str], ...]  # (kind, target)
    key_file: Path | None = None
    key_env: str | None = None
    hash_names: bool = False
    fail_open: bool = False
    checkpoint_every: int = 1000
    sync: str = "interval"
    sync_interval: float = 1.0
    source: str = "<settings>"
    key_line: int | None = None

    def key(self) -> AuditKey:
        from .chain import load_key  # noqa: PLC0415 - see the imports

        try:
            return load_key(key_file=self.key_file, key_env=self.key_env)
        except ConfigError as err:
            option = "audit.key_file" if self.key_file is not None else "audit.key_env"
            line = self.key_line
            raise ConfigError(err.reason, source=self.source, key=option, line=line) from None

    def open(self) -> AuditTrail:
        from .audit import AuditTrail  # noqa: PLC0415 - see the imports

        return AuditTrail(
            [_sink(kind, target) for kind, target in self.sinks],
            self.key(),
            hash_names=self.hash_names,
            fail_open=self.fail_open,
            checkpoint_every=self.checkpoint_every,
            sync=self.sync,
            sync_interval=self.sync_interval,
        )

    def trail_files(self) -> list[Path]:
        return [Path(target) for kind, target in self.sinks if kind == "file"]


def _sink(kind: str, target: str) -> Sink:
    from .sinks import FileSink, LoggingSink, StreamSink, SyslogSink  # noqa: PLC0415

    if kind == "file":
        return FileSink(Path(target))
    if kind in ("stdout", "stderr"):
        return StreamSink(kind)
    if kind == "logging":
        return LoggingSink(target)
    return SyslogSink(target)


@dataclass(frozen=True)
class Governance:
    """What a settings file says about access and audit."""

    policy: Policy | None = None
    audit: AuditSettings | None = None

    def layers(
        self, environment: str | None, *, principal: str | None = None
    ) -> list[LayerFactory]:
        """The layers these settings ask for, outermost first (authorize, audit)."""
        if self.policy is None and self.audit is None:
            return []
        from .policy import resolve_principal  # noqa: PLC0415 - see the imports

        who = resolve_principal(principal, self.policy)
        trail = self.audit.open() if self.audit is not None else None
        return governance_layers(self.policy, trail, principal=who, environment=environment)


def governance_layers(
    policy: Policy | None,
    trail: AuditTrail | None,
    *,
    principal: str,
    environment: str | None,
) -> list[LayerFactory]:
    """The layers for a policy and a trail, outermost first: authorize, then audit.
    Either may be ``None``. Pass them as ``before_cache`` to :class:`SecretManager`."""
    from .audit import AuditLayer  # noqa: PLC0415 - see the imports
    from .rbac import AuthorizeLayer, Authorizer  # noqa: PLC0415

    layers: list[Callable[[Handler], Handler]] = []
    authorizer = None
    if policy is not None:
        authorizer = Authorizer(policy, principal, environment, trail=trail)
        bound = authorizer
        layers.append(lambda inner: AuthorizeLayer(inner, bound))
    if trail is not None:
        rule = authorizer.rule if authorizer is not None else None
        audited = trail
        layers.append(
            lambda inner: AuditLayer(
                inner, audited, principal=principal, environment=environment, rule=rule
            )
        )
    return layers


def parse_governance(
    top: Mapping[str, Any],
    *,
    source: str,
    base_dir: Path,
    environments: Collection[str],
    lines: Mapping[str, int] | None = None,
) -> Governance:
    """The ``policy:`` and ``audit:`` keys of a settings file (``top``)."""
    if top.get("policy") is None and top.get("audit") is None:
        return Governance()
    from .policy import _Parser, parse_policy  # noqa: PLC0415 - see the imports

    policy = parse_policy(top.get("policy"), source=source, lines=lines, environments=environments)
    audit = None
    if top.get("audit") is not None:
        audit = _parse_audit(_Parser(source, lines or {}, environments), top["audit"], base_dir)
    return Governance(policy, audit)


def _parse_audit(parser: _Parser, raw: Any, base_dir: Path) -> AuditSettings:
    spec = parser.mapping(raw, "audit", _AUDIT_KEYS)
    items = spec.get("sinks")
    if items is None:
        raise parser.error("audit needs sinks (file, stdout, stderr, logging, syslog)", "audit")
    sinks = tuple(
        _parse_sink(parser, item, f"audit.sinks[{i}]", base_dir)
        for i, item in enumerate(items if isinstance(items, list) else [items])
    )
    if not sinks:
        raise parser.error("at least one sink is required", "audit.sinks")
    if ("key_file" in spec) == ("key_env" in spec):
        raise parser.error("give the MAC key as key_file or key_env (one of them)", "audit")
    key_file = key_env = None
    if "key_file" in spec:
        key_file = base_dir / parser.strings(spec["key_file"], "audit.key_file")[0]
    else:
        key_env = parser.strings(spec["key_env"], "audit.key_env")[0]
        if not key_env.isidentifier():
            raise parser.error("must be an environment variable name", "audit.key_env")
    flags = {}
    for flag in ("hash_names", "fail_open"):
        flags[flag] = spec.get(flag, False)
        if not isinstance(flags[flag], bool):
            raise parser.error("must be true or false", f"audit.{flag}")
    every = spec.get("checkpoint_every", 1000)
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise parser.error("must be a positive integer", "audit.checkpoint_every")
    sync = spec.get("sync", "interval")
    if sync not in _SYNC:
        raise parser.error(f"must be one of: {', '.join(_SYNC)}", "audit.sync")
    interval = spec.get("sync_interval", 1.0)
    if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
        raise parser.error("must be a positive number of seconds", "audit.sync_interval")
    return AuditSettings(
        sinks,
        key_file,
        key_env,
        flags["hash_names"],
        flags["fail_open"],
        every,
        sync,
        float(interval),
        parser.source,
        parser.line("audit.key_file" if key_file else "audit.key_env"),
    )


def _parse_sink(parser: _Parser, item: Any, key: str, base_dir: Path) -> tuple[str, str]:
    """``stderr`` / ``{file: PATH}`` / ``{logging: LOGGER}`` / ``{syslog: ADDRESS}``."""
    defaults = {"stdout": "", "stderr": "", "logging": "secretwire.audit", "syslog": "/dev/log"}
    if isinstance(item, str):
        if item not in defaults:
            raise parser.error(f"unknown sink {item!r} (one of: {', '.join(_SINK_KINDS)})", key)
        return item, defaults[item]
    spec = parser.mapping(item, key, set(_SINK_KINDS))
    if len(spec) != 1:
        raise parser.error("a sink is one of: file, stdout, stderr, logging, syslog", key)
    kind, target = next(iter(spec.items()))
    if kind in ("stdout", "stderr"):
        return kind, ""
    if not isinstance(target, str) or not target:
        raise parser.error("expected a non-empty string", f"{key}.{kind}")
    if kind == "file":
        return kind, str(base_dir / target)
    if kind == "syslog" and target.startswith("udp://"):
        host, _, port = target[len("udp://") :].rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise parser.error("expected udp://HOST:PORT or a socket path", f"{key}.{kind}")
    return kind, target
