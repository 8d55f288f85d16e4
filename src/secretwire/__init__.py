"""secretwire: resolve ``${secret:...}`` references in configuration from the right backend.

The curated public API is below; everything else is internal. Adapters for
pydantic-settings, dynaconf and OmegaConf live in ``secretwire.adapters`` and use
only these names.
"""

import os as _os
import sys as _sys

from ._exports import lazy_exports as _lazy_exports
from ._version import __version__

# Not typing.TYPE_CHECKING: importing typing costs more than the rest of this
# module; type checkers read any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._extras import require_extra
    from .cache import CachePolicy, CacheStats, SecretCache
    from .configfile import ConfigFile, dump_config, load_config
    from .deadlines import deadline
    from .errors import (
        AccessDenied,
        ConfigError,
        Conflict,
        DeadlineExceeded,
        DecryptionFailed,
        FieldNotFound,
        InvalidSecret,
        ProviderError,
        ProviderUnavailable,
        ReferenceSyntaxError,
        ResolutionError,
        ResolutionFailure,
        RotationFailed,
        SecretDisabled,
        SecretExpired,
        SecretNotFound,
        SecretNotYetValid,
        SecretwireError,
        StoreCorrupted,
        StoreError,
        StoreKeyMismatch,
        Unauthenticated,
        UnsupportedOperation,
        reason_of,
    )
    from .manager import Metrics, SecretManager
    from .masking import (
        RedactingFilter,
        Redactor,
        StreamMasker,
        auto_log_masking,
        install_log_masking,
        uninstall_log_masking,
    )
    from .paths import TreePath, format_location, replace_at, walk_leaves, walk_strings
    from .pipeline import BackendStats, Handler, Layer
    from .providers import (
        available_providers,
        get_provider_class,
        register_provider,
        unregister_provider,
    )
    from .providers.base import SecretProvider
    from .references import (
        Reference,
        Template,
        as_reference,
        contains_reference,
        escape,
        find_references,
        parse,
        parse_reference,
        reference_value,
    )
    from .resolver import (
        Provenance,
        Resolution,
        ResolvedText,
        Resolver,
        SiteFailure,
    )
    from .settings import (
        CacheSettings,
        DeadlineSettings,
        EnvironmentSettings,
        Settings,
        find_settings_file,
        load_settings,
    )
    from .shared import close_shared_managers, shared_manager
    from .types import Capabilities, Health, HealthStatus, Key, Secret, SecretVersion, Write
    from .values import MASK, SecretValue
del TYPE_CHECKING

# Every public name by module: ``import secretwire`` loads none of them; the first
# use of a name loads its module (and what that module needs).
__getattr__, __dir__ = _lazy_exports(
    __name__,
    {
        "_extras": "require_extra",
        "cache": "CachePolicy CacheStats SecretCache",
        "configfile": "ConfigFile dump_config load_config",
        "deadlines": "deadline",
        "errors": (
            "AccessDenied ConfigError Conflict DeadlineExceeded DecryptionFailed "
            "FieldNotFound InvalidSecret ProviderError ProviderUnavailable "
            "ReferenceSyntaxError ResolutionError ResolutionFailure RotationFailed "
            "SecretDisabled SecretExpired SecretNotFound SecretNotYetValid "
            "SecretwireError StoreCorrupted StoreError StoreKeyMismatch Unauthenticated "
            "UnsupportedOperation reason_of"
        ),
        "manager": "Metrics SecretManager",
        "masking": (
            "RedactingFilter Redactor StreamMasker auto_log_masking install_log_masking "
            "uninstall_log_masking"
        ),
        "paths": "TreePath format_location replace_at walk_leaves walk_strings",
        "pipeline": "BackendStats Handler Layer",
        "providers": "available_providers get_provider_class register_provider unregister_provider",
        "providers.base": "SecretProvider",
        "references": (
            "Reference Template as_reference contains_reference escape find_references "
            "parse parse_reference reference_value"
        ),
        "resolver": "Provenance Resolution ResolvedText Resolver SiteFailure",
        "settings": (
            "CacheSettings DeadlineSettings EnvironmentSettings Settings "
            "find_settings_file load_settings"
        ),
        "shared": "close_shared_managers shared_manager",
        "types": "Capabilities Health HealthStatus Key Secret SecretVersion Write",
        "values": "MASK SecretValue",
    },
)

__all__ = [
    "MASK",
    "AccessDenied",
    "BackendStats",
    "CachePolicy",
    "CacheSettings",
    "CacheStats",
    "Capabilities",
    "ConfigError",
    "ConfigFile",
    "Conflict",
    "DeadlineExceeded",
    "DeadlineSettings",
    "DecryptionFailed",
    "EnvironmentSettings",
    "FieldNotFound",
    "Handler",
    "Health",
    "HealthStatus",
    "InvalidSecret",
    "Key",
    "Layer",
    "Metrics",
    "Provenance",
    "ProviderError",
    "ProviderUnavailable",
    "RedactingFilter",
    "Redactor",
    "Reference",
    "ReferenceSyntaxError",
    "Resolution",
    "ResolutionError",
    "ResolutionFailure",
    "ResolvedText",
    "Resolver",
    "RotationFailed",
    "Secret",
    "SecretCache",
    "SecretDisabled",
    "SecretExpired",
    "SecretManager",
    "SecretNotFound",
    "SecretNotYetValid",
    "SecretProvider",
    "SecretValue",
    "SecretVersion",
    "SecretwireError",
    "Settings",
    "SiteFailure",
    "StoreCorrupted",
    "StoreError",
    "StoreKeyMismatch",
    "StreamMasker",
    "Template",
    "TreePath",
    "Unauthenticated",
    "UnsupportedOperation",
    "Write",
    "__version__",
    "as_reference",
    "auto_log_masking",
    "available_providers",
    "close_shared_managers",
    "contains_reference",
    "deadline",
    "dump_config",
    "escape",
    "find_references",
    "find_settings_file",
    "format_location",
    "get_provider_class",
    "install_log_masking",
    "load_config",
    "load_settings",
    "parse",
    "parse_reference",
    "reason_of",
    "reference_value",
    "register_provider",
    "replace_at",
    "require_extra",
    "shared_manager",
    "uninstall_log_masking",
    "unregister_provider",
    "walk_leaves",
    "walk_strings",
]


# ``secretwire.adapters`` ships from the top-level ``adapters/`` folder; in an
# editable install that folder is a second portion of this package on sys.path.
# (What pkgutil.extend_path does, without its import cost.)
def _add_adapter_portions() -> None:
    for entry in _sys.path:
        portion = _os.path.join(entry or _os.curdir, __name__)
        if portion not in __path__ and _os.path.isdir(_os.path.join(portion, "adapters")):
            __path__.append(portion)


_add_adapter_portions()
