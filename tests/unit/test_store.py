"""The one versioned-store model. The file provider keeps it encrypted on disk:
tests/providers/test_localfile.py opens stores written before it moved onto the model."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from secretwire import SecretNotFound, SecretValue, Write
from secretwire.providers._store import VersionedDocument
from secretwire.testing import CANARY, assert_no_leak

WHEN = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
VERSION = {
    "id": "1",
    "value": CANARY,
    "created": "2030-01-01T00:00:00+00:00",
    "expires": None,
    "metadata": {},
    "tags": {},
}


def test_numbering_current_and_history() -> None:
    doc = VersionedDocument()
    first = doc.write(Write("a", SecretValue("1"), metadata={"k": "v"}), created_at=WHEN)
    second = doc.write(Write("a", SecretValue("2"), expires_at=WHEN))
    assert (first.version, second.version, second.current) == ("1", "2", True)
    assert doc.read("a", None, provider="p").reveal() == "2"
    assert doc.read("a", "1", provider="p").metadata == {"k": "v"}
    assert doc.read("a", None, provider="p").created_at == WHEN  # the first version's
    assert [(v.version, v.current) for v in doc.versions("a", provider="p")] == [
        ("2", True),
        ("1", False),
    ]
    copy = doc.copy()
    doc.delete("a", provider="p")
    assert "a" in copy and "a" not in doc
    doc.write(Write("a", SecretValue("3")))
    assert doc.read("a", None, provider="p").version == "1"  # a new name starts again
    with pytest.raises(SecretNotFound) as info:
        doc.read("a", "9", provider="p")
    assert str(info.value) == "not found: get secret 'a' version '9' in provider 'p'"
    with pytest.raises(SecretNotFound):
        doc.delete("gone", provider="p")


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"secrets": []},
        {"secrets": {"a": {"next": "1", "versions": []}}},
        {"secrets": {"a": {"next": 2, "versions": [{"id": 1}]}}},
        {"secrets": {"a": {"next": 2, "versions": [{"id": "1", "value": CANARY}]}}},
        {"secrets": {"a": {"next": 2, "versions": [{**VERSION, "created": "x"}]}}},
        {"secrets": {"a": {"next": 2, "versions": [{**VERSION, "tags": {"t": 1}}]}}},
        {"secrets": {1: {"next": 2, "versions": [VERSION]}}},
    ],
)
def test_an_invalid_document_decodes_to_none_without_raising(data: object) -> None:
    assert VersionedDocument.decode(data) is None
    good = {"secrets": {"a": {"next": 2, "versions": [VERSION]}}}
    assert VersionedDocument.decode(good) is not None


def test_reads_hold_the_value_masked() -> None:
    doc = VersionedDocument()
    doc.write(Write("a", SecretValue(CANARY)))
    with pytest.raises(SecretNotFound) as info:
        doc.read("a", "2", provider="p")
    assert_no_leak(info.value, CANARY)
