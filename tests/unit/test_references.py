"""The reference grammar: examples, error positions, round-trips and hostile input."""

from __future__ import annotations

from itertools import zip_longest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secretwire import (
    InvalidSecret,
    Reference,
    ReferenceSyntaxError,
    as_reference,
    escape,
    parse,
    parse_reference,
)
from secretwire.references import (
    MAX_NAME_LENGTH,
    Occurrence,
    _escape,
    check_name,
    find_references,
    is_valid_name,
)


def refs(text: str) -> list[Reference]:
    return list(parse(text).references)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${secret:db/password}", Reference("db/password")),
        ("$<secret:db/password>", Reference("db/password", style="$<")),
        ("${secret:ai/anthropic/api-key}", Reference("ai/anthropic/api-key")),
        ("${secret:a.b_c-d}", Reference("a.b_c-d")),
        ("${secret:db/creds#user}", Reference("db/creds", field="user")),
        ("${secret:db/creds@3}", Reference("db/creds", version="3")),
        ("${secret:db/creds#user@AWSCURRENT}", Reference("db/creds", "user", "AWSCURRENT")),
        ("${secret:x:-fallback}", Reference("x", default="fallback")),
        ("${secret:x:-}", Reference("x", default="")),
        ("${secret:x#f@2:-d}", Reference("x", "f", "2", "d")),
        (r"${secret:x:-a\}b}", Reference("x", default="a}b")),
        (r"$<secret:x:-a\>b}>", Reference("x", default="a>b}", style="$<")),
        (
            "${secret:arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf}",
            Reference("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"),
        ),
        ("${secret:123}", Reference("123")),
        ("${secret:clé/пароль}", Reference("clé/пароль")),
        # a backslash takes the next visible character as is, in names, fields, versions
        (r"${secret:a/user\@example.com}", Reference("a/user@example.com")),
        (r"${secret:feature\:-off}", Reference("feature:-off")),
        (r"${secret:feature\:-off:-on}", Reference("feature:-off", default="on")),
        (r"${secret:a\#b#c\:d\#e@v\+1}", Reference("a#b", "c:d#e", "v+1")),
        (r"${secret:\$\{x\}\<y\>\\}", Reference("${x}<y>\\")),
        (r"$<secret:a\>b>", Reference("a>b", style="$<")),
        (r"${secret:\a\b}", Reference("ab")),  # quoting an ordinary character is allowed
        ("${secret:a::-d}", Reference("a:", default="d")),
    ],
)
def test_single_references(text: str, expected: Reference) -> None:
    assert parse_reference(text) == expected


def test_reference_inside_longer_string() -> None:
    template = parse("postgres://app:${secret:db/password}@db:5432/app")
    assert template.parts[0] == "postgres://app:"
    assert isinstance(template.parts[1], Occurrence)
    assert template.parts[2] == "@db:5432/app"
    assert template.render(lambda ref: "PW") == "postgres://app:PW@db:5432/app"


def test_several_references_and_both_spellings() -> None:
    text = "${secret:a}-$<secret:b>-${secret:a#x}"
    assert [r.name for r in refs(text)] == ["a", "b", "a"]


def test_other_interpolations_are_literal() -> None:
    for text in ("${HOME}", "${env:X}", "$<other:x>", "$$", "a $ b", "${secret", "{secret:x}"):
        assert parse(text).is_literal


@pytest.mark.parametrize(
    ("text", "literal"),
    [
        ("$${secret:x}", "${secret:x}"),
        ("$$<secret:x>", "$<secret:x>"),
        ("a $$${secret:x} b", None),  # "$" + a reference
        ("$$$${secret:x}", "$${secret:x}"),
    ],
)
def test_escapes(text: str, literal: str | None) -> None:
    template = parse(text)
    if literal is None:
        assert template.references == (Reference("x"),)
        assert template.render(lambda r: "V") == "a $V b"
    else:
        assert template.is_literal
        assert template.render(lambda r: "V") == literal


def test_escape_makes_any_text_literal() -> None:
    text = "keep ${secret:x} and $<secret:y> and $${secret:z} as text"
    assert parse(escape(text)).render(lambda r: "!") == text


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("${secret:}", 9, "empty secret name"),
        ("xx ${secret:db/password", 3, "unterminated"),
        ("${secret:a b}", 10, "unexpected character ' '"),
        ("${secret:a#}", 11, "empty field"),
        ("${secret:a@}", 11, "empty version"),
        ("${secret:a@1.2/3}", 14, "unexpected character '/'"),
        ("${secret:a{b}", 10, "unexpected character '{'"),
        ("$<secret:a}", 10, "unexpected character '}'"),
        ("${secret:a:-x\\", 13, "backslash at end"),
        ("${secret:a\\", 10, "backslash at end of text in secret name"),
        ("${secret:a\\ b}", 11, "whitespace (U+0020) after a backslash"),
        ("${secret:a\\\u200bb}", 11, "invisible format character (U+200B)"),
        ("${secret:a\u200bb}", 10, "unexpected character '\\u200b'"),
        ("${secret:a#b\\}", 0, "unterminated"),
        ("${secret:" + "x" * (MAX_NAME_LENGTH + 1) + "}", 9, "longer than 2048"),
    ],
)
def test_malformed_references_name_the_position(text: str, position: int, reason: str) -> None:
    with pytest.raises(ReferenceSyntaxError) as info:
        parse(text)
    assert info.value.position == position
    assert reason in str(info.value)
    assert isinstance(info.value, ValueError)


def test_error_is_located_in_a_file() -> None:
    with pytest.raises(ReferenceSyntaxError) as info:
        parse("${secret:}")
    located = info.value.located(source="config.yaml", line=4)
    assert str(located).startswith("config.yaml:4: empty secret name")


def test_find_references_yields_spans() -> None:
    text = "a ${secret:x} b $<secret:y>"
    spans = [(o.start, o.end) for o in find_references(text)]
    assert [text[s:e] for s, e in spans] == ["${secret:x}", "$<secret:y>"]


def test_substituted_values_are_not_parsed_again() -> None:
    template = parse("${secret:outer}")
    assert template.render(lambda r: "${secret:inner}") == "${secret:inner}"


# -- properties -------------------------------------------------------------------

#: Every character a name may hold, weighted towards those a reference quotes.
_visible = st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Co", "Cn", "Zs", "Zl", "Zp"))
_special = st.sampled_from(list("{}<>#@$\\:-"))
names = st.text(_visible | _special, min_size=1, max_size=30).filter(is_valid_name)
fields = names
versions = st.text(st.sampled_from("abcAB019-_.") | _special | _visible, min_size=1, max_size=12)
defaults = st.none() | st.text(max_size=20)
references = st.builds(
    Reference,
    name=names,
    field=st.none() | fields,
    version=st.none() | versions,
    default=defaults,
    style=st.sampled_from(["${", "$<"]),
)


@given(references)
def test_reference_format_parse_round_trip(ref: Reference) -> None:
    assert parse_reference(ref.format()) == ref


@given(st.lists(st.one_of(st.text(max_size=15), references), max_size=6))
def test_template_format_parse_round_trip(pieces: list[str | Reference]) -> None:
    text = "".join(
        _escape(p, before_reference=isinstance(nxt, Reference))
        if isinstance(p, str)
        else p.format()
        for p, nxt in zip_longest(pieces, pieces[1:])
    )
    template = parse(text)
    assert parse(template.format()) == parse(text)
    expected = "".join(p if isinstance(p, str) else f"<{p.name}>" for p in pieces)
    assert template.render(lambda r: f"<{r.name}>") == expected


@given(st.text(alphabet=st.sampled_from("${}<>#@:-\\secrt: xa"), max_size=60) | st.text())
def test_arbitrary_text_never_crashes_the_parser(text: str) -> None:
    try:
        parse(text)
    except ReferenceSyntaxError as err:
        assert 0 <= err.position <= len(text)


@settings(max_examples=30)
@given(st.text(max_size=30))
def test_escape_round_trip(text: str) -> None:
    assert parse(escape(text)).render(lambda r: "!") == text


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "unit",
    ["${secret:", "$$${secret:a", "${secret:a:-\\", "$" * 7, "${secret:a#", "x$<secret:a>"],
)
def test_hostile_input_of_megabytes_parses(unit: str) -> None:
    # A backtracking parser would take hours on these; a linear one well under a
    # second. The timeout, not a timing assertion, is what catches a regression.
    text = unit * (2_000_000 // len(unit))
    try:
        template = parse(text)
    except ReferenceSyntaxError as err:
        assert 0 <= err.position <= len(text)
    else:
        assert template.source == text


@given(names)
def test_every_valid_name_round_trips_through_a_reference(name: str) -> None:
    ref = Reference(name)
    assert parse_reference(ref.format()) == ref
    assert parse_reference(ref.format("$<")).name == name
    assert as_reference(ref.format()[len("${secret:") : -1]) == ref
    embedded = parse(f"a ${{x}} {ref.format()} $$ {ref.format('$<')}:-b")
    assert [r.name for r in embedded.references] == [name, name]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("a/user@example.com", r"${secret:a/user\@example.com}"),
        ("feature:-off", r"${secret:feature\:-off}"),
        ("a:b-c", "${secret:a:b-c}"),
        ("db/creds#user", r"${secret:db/creds\#user}"),
        ("${x}", r"${secret:\$\{x\}}"),
        ("<a>", r"${secret:\<a\>}"),
        ("back\\slash", r"${secret:back\\slash}"),
    ],
)
def test_format_quotes_what_has_a_meaning(name: str, text: str) -> None:
    assert Reference(name).format() == text
    assert parse_reference(text).name == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "is empty"),
        ("a b", "whitespace (U+0020) at character 1"),
        ("tab\there", "whitespace (U+0009)"),
        ("a\u00a0b", "whitespace (U+00A0)"),
        ("a\x07b", "a control character (U+0007)"),
        ("a\u200bb", "an invisible format character (U+200B)"),
        ("\ufeffbom", "an invisible format character (U+FEFF)"),
        ("a\udcffb", "a lone surrogate"),
        ("a\ue000", "a private-use character (U+E000)"),
        ("a\u0378", "an unassigned code point (U+0378)"),
        ("x" * (MAX_NAME_LENGTH + 1), "is 2049 characters long"),
    ],
)
def test_the_name_rule(name: str, reason: str) -> None:
    assert not is_valid_name(name)
    with pytest.raises(InvalidSecret) as info:
        check_name(name, provider="p")
    assert reason in str(info.value)
    assert "docs/references.md#names" in str(info.value)
    assert info.value.provider == "p"
    assert len(str(info.value)) < 300  # a long name is shown shortened
    with pytest.raises(ReferenceSyntaxError):
        Reference(name)


def test_valid_names() -> None:
    valid = ("db/password", "a/user@example.com", "feature:-off", "clé/пароль", "🔑", "x" * 2048)
    for name in valid:
        assert check_name(name) == name
        assert is_valid_name(name)
    assert not is_valid_name(42)
    with pytest.raises(InvalidSecret, match="must be a string"):
        check_name(42)


def test_reference_parts_are_checked_on_construction() -> None:
    for kwargs in ({"field": ""}, {"version": ""}, {"field": "a b"}, {"version": "1 2"}):
        with pytest.raises(ReferenceSyntaxError):
            Reference("x", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Reference(3)  # type: ignore[arg-type]


def test_as_reference_accepts_bare_form_and_reports_user_positions() -> None:
    assert as_reference("db/creds#user@2:-x") == Reference("db/creds", "user", "2", "x")
    # the bare form's default runs to the end of the text: no delimiter to quote
    assert as_reference("x:-a}b>c") == Reference("x", default="a}b>c")
    assert as_reference(r"a\@b@1") == Reference("a@b", version="1")
    assert as_reference("${secret:a}") == Reference("a")
    ref = Reference("a")
    assert as_reference(ref) is ref
    with pytest.raises(ReferenceSyntaxError) as info:
        as_reference("a b")
    assert info.value.position == 1
    assert info.value.text == "a b"


# -- the env scheme ---------------------------------------------------------------------

BOTH = ("secret", "env")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${env:HOME}", [Reference("HOME", scheme="env")]),
        ("$<env:_X1>", [Reference("_X1", style="$<", scheme="env")]),
        ("${env:A:-x:y\\}z}", [Reference("A", default="x:y}z", scheme="env")]),
        ("${env:A:-}", [Reference("A", default="", scheme="env")]),
        (
            "${env:A}/${secret:db#u}",
            [Reference("A", scheme="env"), Reference("db", field="u")],
        ),
    ],
)
def test_env_references_with_the_env_scheme(text: str, expected: list[Reference]) -> None:
    assert list(parse(text, schemes=BOTH).references) == expected
    for ref in expected:
        assert list(parse(ref.format(), schemes=BOTH).references) == [ref]


def test_env_is_literal_unless_asked_for() -> None:
    assert parse("${env:HOME}").is_literal
    assert parse("$${env:HOME}").parts == ("$${env:HOME}",)
    assert parse("$${env:HOME}", schemes=BOTH).parts == ("${env:HOME}",)
    assert parse("${secret:x}", schemes=("env",)).is_literal


@pytest.mark.parametrize(
    ("text", "reason", "position"),
    [
        ("${env:}", "empty variable name in reference", 6),
        ("${env:9X}", "unexpected character '9' in reference", 6),
        ("${env:A-B}", "unexpected character '-' in reference", 7),
        ("${env:A", "unterminated reference (missing '}')", 0),
        ("x ${env:A#f}", "unexpected character '#' in reference", 9),
        ("${env:A:-x\\", "backslash at end of text in reference default", 10),
    ],
)
def test_env_syntax_errors_are_those_of_the_grammar(text: str, reason: str, position: int) -> None:
    with pytest.raises(ReferenceSyntaxError) as info:
        parse(text, schemes=BOTH)
    assert (info.value.reason, info.value.position) == (reason, position)


def test_escape_and_format_know_the_schemes() -> None:
    assert escape("${env:A}") == "${env:A}"
    assert escape("${env:A}", schemes=BOTH) == "$${env:A}"
    template = parse("$${env:A}${env:B}", schemes=BOTH)
    assert parse(template.format(), schemes=BOTH) == template


def test_env_reference_checks() -> None:
    with pytest.raises(ReferenceSyntaxError):
        Reference("1A", scheme="env")
    with pytest.raises(ValueError, match="no field"):
        Reference("A", field="f", scheme="env")
    with pytest.raises(ValueError, match="scheme"):
        Reference("A", scheme="vault")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown reference scheme"):
        parse("x", schemes=("vault",))  # type: ignore[arg-type]


@given(st.lists(st.text(alphabet="${}<>:-envsecrt\\AB", max_size=12), max_size=4))
def test_env_and_secret_texts_escape_round_trip(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert parse(escape(text, schemes=BOTH), schemes=BOTH).parts == ((text,) if text else ())


def test_a_text_is_parsed_once_and_the_kept_texts_are_bounded() -> None:
    from secretwire import references

    text = "postgres://${secret:db/user}:${secret:db/pw}@h/db"
    assert parse(text) is parse(text)
    assert as_reference("db/creds#user@2") is as_reference("db/creds#user@2")
    long = "x" * (references._CACHED_LENGTH + 1) + "${secret:a}"
    assert parse(long) is not parse(long)  # too long to keep
    for i in range(references._CACHED_TEXTS + 10):
        parse(f"${{secret:n{i}}}")
        as_reference(f"n{i}")
    assert len(references._templates) <= references._CACHED_TEXTS
    assert len(references._references) <= references._CACHED_TEXTS
    with pytest.raises(ReferenceSyntaxError):  # errors are raised each time, never kept
        parse("${secret:}")
    with pytest.raises(ReferenceSyntaxError):
        parse("${secret:}")
