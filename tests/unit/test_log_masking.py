"""Masking what the application logs and what a stream carries: every encoding, both
matcher engines, the minimum length, one-call installation, boundary-safe streams."""

from __future__ import annotations

import itertools
import logging
import random
from collections.abc import Iterator

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from secretwire import (
    MASK,
    Redactor,
    SecretManager,
    StreamMasker,
    install_log_masking,
    uninstall_log_masking,
)
from secretwire.masking import (
    ByteStreamMasker,
    RedactingFilter,
    aho_available,
    auto_log_masking,
    default_redactor,
    encoded_forms,
)
from secretwire.masking._matchers import Levels, build_matcher
from secretwire.providers.memory import MemoryProvider
from secretwire.testing import CANARY
from tests.encodings import ENCODING_NAMES, encoding_of, recovered, samples

#: A second canary whose base64 has "+" and "/" (so base64url differs) and whose URL
#: form has "%" escapes of ASCII characters.
CANARY_B64 = "k~~?>>?tok&=/ \u00fc-7d1e"
CANARIES = (CANARY, CANARY_B64)
ENGINES = [
    "regex",
    pytest.param(
        "aho",
        marks=pytest.mark.skipif(not aho_available(), reason="pyahocorasick is not installed"),
    ),
]


def test_the_samples_cover_every_encoding_and_are_readable_before_masking() -> None:
    for value in CANARIES:
        cases = samples(value)
        assert {encoding_of(label) for label in cases} == set(ENCODING_NAMES)
        for label, text in cases.items():
            assert recovered(text, value), label
    forms = encoded_forms(CANARY_B64)
    assert {"base64", "base64url", "url", "hex", "json", "raw"} == set(forms.values())


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("value", CANARIES, ids=["canary", "canary-b64"])
def test_every_encoding_is_masked_in_text(engine: str, value: str) -> None:
    redactor = Redactor(engine=engine)
    redactor.add(value)
    for label, text in samples(value).items():
        assert redactor.may_contain(text), label
        masked = redactor.redact(text)
        assert MASK in masked, label
        assert recovered(masked, value) == [], label


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def app_log() -> Iterator[tuple[logging.Logger, Collect]]:
    """A logger with a handler added *after* masking is installed."""
    handler = Collect()
    logger = logging.getLogger("swt.app")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield logger, handler
    logger.removeHandler(handler)


def test_one_call_masks_every_encoding_in_every_record(
    app_log: tuple[logging.Logger, Collect],
) -> None:
    install_log_masking()
    logger, handler = app_log
    with SecretManager(MemoryProvider({"db": CANARY, "api": CANARY_B64})) as manager:
        manager.resolve({"a": "${secret:db}", "b": "${secret:api}"})
    for value in CANARIES:
        for label, text in samples(value).items():
            logger.info("sent %s", text)
            logger.warning(text)  # the text as the format itself
            assert recovered(handler.lines[-2], value) == [], label
            assert recovered(handler.lines[-1], value) == [], label
    try:
        _fail(f"bad token {CANARY}")
    except ValueError:
        logger.exception("request failed")
    logger.info("where", stack_info=True, extra={"note": "extra= is not masked"})
    assert CANARY not in "\n".join(handler.lines)
    assert "ValueError: bad token **********" in handler.lines[-2]
    assert install_log_masking() is install_log_masking()  # idempotent
    assert uninstall_log_masking() and not uninstall_log_masking()
    logger.info(CANARY)
    assert handler.lines[-1] == CANARY  # uninstalled: no longer masked


def _fail(message: str) -> None:
    raise ValueError(message)


def test_a_short_value_is_masked_only_whole_and_reported_by_name(
    all_logs: pytest.LogCaptureFixture,
) -> None:
    with SecretManager(MemoryProvider({"pin": "123", "db": CANARY})) as manager:
        manager.get("pin")  # served before the installation: reported at installation
        install_log_masking()
        manager.get("db")
    warnings = [r.getMessage() for r in all_logs.records if r.levelno == logging.WARNING]
    assert warnings == [
        "secret 'pin' is shorter than the masking minimum of 4 characters: it is masked "
        "only where a whole text (a log message, an output) is it"
    ]
    assert default_redactor().short_names == {"pin"}
    logging.getLogger("swt.app").warning("123")
    logging.getLogger("swt.app").warning("pin 123 is in this text")
    shown = [r.getMessage() for r in all_logs.records if r.name == "swt.app"]
    assert shown == [MASK, "pin 123 is in this text"]


def test_adapters_install_it_unless_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRETWIRE_MASK_LOGS", "0")
    assert auto_log_masking() is None
    assert not uninstall_log_masking()
    monkeypatch.setenv("SECRETWIRE_MASK_LOGS", "1")
    assert isinstance(auto_log_masking(), RedactingFilter)
    assert uninstall_log_masking()


def test_the_pydantic_adapter_installs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pydantic_settings")
    from secretwire.adapters.pydantic_settings import SecretSettings

    class Empty(SecretSettings):
        pass

    manager = SecretManager(MemoryProvider({}))
    Empty(_secretwire_manager=manager)
    assert uninstall_log_masking()
    monkeypatch.setenv("SECRETWIRE_MASK_LOGS", "off")
    Empty(_secretwire_manager=manager)
    assert not uninstall_log_masking()


# -- the matchers ---------------------------------------------------------------------


@given(
    patterns=st.lists(st.text("abc", min_size=1, max_size=6), min_size=1, max_size=12),
    text=st.text("abcx", max_size=40),
)
@example(patterns=["b", "aba"], text="ab")  # pyahocorasick's iter_long misses the "b"
def test_both_engines_find_the_leftmost_longest_matches(patterns: list[str], text: str) -> None:
    expected = _leftmost_longest(patterns, text)
    assert build_matcher(patterns, "regex").spans(text) == expected
    if aho_available():
        assert build_matcher(patterns, "aho").spans(text) == expected
    for prefix in {text[:n] for n in range(len(text) + 1)} - {""}:
        truth = any(p.startswith(prefix) for p in patterns)
        assert build_matcher(patterns, "regex").is_prefix(prefix) == truth


def _leftmost_longest(patterns: list[str], text: str) -> list[tuple[int, int]]:
    spans, at = [], 0
    while at < len(text):
        ends = [at + len(p) for p in patterns if text.startswith(p, at)]
        if ends:
            spans.append((at, max(ends)))
            at = max(ends)
        else:
            at += 1
    return spans


def test_patterns_too_nested_for_a_trie_fall_back_to_an_alternation() -> None:
    patterns = ["a" * n for n in range(1, 1200)]
    matcher = build_matcher(patterns, "regex")
    assert matcher.spans("b" + "a" * 1199 + "b") == [(1, 1200)]


def test_values_added_between_uses_stay_found_and_end_in_one_matcher() -> None:
    levels = Levels("regex")
    values = [f"value-{n:04d}-{random.random()}" for n in range(200)]
    for count, value in enumerate(values, 1):
        levels.add([value])
        matcher = levels.matcher()
        assert all(matcher.search(f"x {old} y") for old in values[: count : max(1, count // 7)])
    for _ in range(Levels.QUIET_USES):
        matcher = levels.matcher()
    assert matcher.engine == "regex"  # merged: a single matcher, not a union
    assert all(matcher.search(value) for value in values)


# -- streams --------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_a_stream_written_a_few_bytes_at_a_time_is_masked(engine: str, size: int) -> None:
    redactor = Redactor(engine=engine)
    for value in CANARIES:
        redactor.add(value)
    for value in CANARIES:
        for label, text in samples(value).items():
            data = f"{text}\nnext line\n".encode()
            masker = ByteStreamMasker(redactor)
            out = b"".join(masker.feed(data[at : at + size]) for at in range(0, len(data), size))
            out += masker.flush()
            shown = out.decode("utf-8")
            assert shown == redactor.redact(f"{text}\nnext line\n"), label
            assert recovered(shown, value) == [], label


@given(
    values=st.lists(st.text("ab-", min_size=4, max_size=8), min_size=1, max_size=4),
    text=st.text("ab-x", max_size=60),
    cuts=st.lists(st.integers(0, 60), max_size=10),
)
def test_any_chunking_masks_as_the_whole_text_does(
    values: list[str], text: str, cuts: list[int]
) -> None:
    redactor = Redactor(engine="regex")
    for value in values:
        redactor.add(value)
    points = sorted({0, len(text), *(c for c in cuts if c < len(text))})
    masker = StreamMasker(redactor)
    out = "".join(masker.feed(text[a:b]) for a, b in itertools.pairwise(points)) + masker.flush()
    assert out == redactor.redact(text) or text in redactor._whole


def test_bytes_that_are_not_utf8_pass_through() -> None:
    redactor = Redactor()
    redactor.add(CANARY)
    masker = ByteStreamMasker(redactor)
    data = b"\xff\xfe bin " + CANARY.encode() + b" \xc3"
    out = b"".join(masker.feed(data[i : i + 1]) for i in range(len(data))) + masker.flush()
    assert out == b"\xff\xfe bin " + MASK.encode() + b" \xc3"
    assert CANARY not in repr(masker) + repr(redactor) + repr(redactor.matcher())
