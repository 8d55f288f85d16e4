"""Masking what the application logs: a filter, and one call that applies it to every record."""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from ._redactor import Redactor, default_redactor

__all__ = [
    "MASK_LOGS_VARIABLE",
    "RedactingFilter",
    "auto_log_masking",
    "install_log_masking",
    "uninstall_log_masking",
]

#: Set to ``0`` (or ``false``, ``off``, ``no``) to keep the adapters from installing
#: log masking; :func:`install_log_masking` itself always installs it.
MASK_LOGS_VARIABLE = "SECRETWIRE_MASK_LOGS"


class RedactingFilter(logging.Filter):
    """A :class:`logging.Filter` that masks registered values in a record's message
    (``msg`` with its ``args`` applied), its exception text and its stack text.
    Attach it to a handler (it then sees records from every logger) or to a logger;
    :func:`install_log_masking` applies it to every record instead. It never drops a
    record. Attributes passed with ``extra=`` are not masked."""

    def __init__(self, redactor: Redactor | None = None, name: str = "") -> None:
        super().__init__(name)
        self.redactor = redactor if redactor is not None else default_redactor()

    def filter(self, record: logging.LogRecord) -> bool:
        redactor = self.redactor
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's to report
            return True
        if redactor.may_contain(message):
            record.msg = redactor.redact(message)
            record.args = None
        if record.exc_info and not record.exc_text:
            text = _formatter.formatException(record.exc_info)
            if redactor.may_contain(text):
                record.exc_text = redactor.redact(text)
        if record.exc_text and redactor.may_contain(record.exc_text):
            record.exc_text = redactor.redact(record.exc_text)
        if record.stack_info and redactor.may_contain(record.stack_info):
            record.stack_info = redactor.redact(record.stack_info)
        return True


_formatter = logging.Formatter()


class _MaskingFactory:
    """A log record factory that passes each new record through the filter, before
    any handler, filter or integration (Sentry's included) sees it."""

    def __init__(self, previous: Any, masking: RedactingFilter) -> None:
        self.previous = previous
        self.masking = masking
        self.active = True

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.previous(*args, **kwargs)
        if self.active:
            self.masking.filter(record)
        return record


_lock = threading.Lock()
_installed: _MaskingFactory | None = None


def install_log_masking(redactor: Redactor | None = None) -> RedactingFilter:
    """Mask every value a :class:`~secretwire.SecretManager` has served (the
    process-wide redactor, or ``redactor``) in every log record of every logger,
    from now on: one call, at start-up. Idempotent: a second call returns the filter
    already installed. The filter runs in the record factory
    (:func:`logging.setLogRecordFactory`), so handlers added later are covered too."""
    global _installed  # noqa: PLW0603 - one installation per process
    with _lock:
        if _installed is not None and _installed.active:
            return _installed.masking
        factory = _MaskingFactory(logging.getLogRecordFactory(), RedactingFilter(redactor))
        logging.setLogRecordFactory(factory)
        _installed = factory
    masking = factory.masking
    masking.redactor.report_short = True
    for name in sorted(masking.redactor.short_names):
        masking.redactor.warn_short(name)
    return masking


def uninstall_log_masking() -> bool:
    """Undo :func:`install_log_masking`; returns whether it was installed."""
    global _installed
    with _lock:
        factory, _installed = _installed, None
        if factory is None or not factory.active:
            return False
        factory.active = False
        factory.masking.redactor.report_short = False
        if logging.getLogRecordFactory() is factory:
            logging.setLogRecordFactory(factory.previous)
        return True


def auto_log_masking() -> RedactingFilter | None:
    """What each adapter calls when it starts: :func:`install_log_masking`, unless
    ``SECRETWIRE_MASK_LOGS`` turns it off."""
    if os.environ.get(MASK_LOGS_VARIABLE, "").strip().lower() in ("0", "false", "off", "no"):
        return None
    return install_log_masking()
