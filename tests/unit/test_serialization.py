"""Every serialisation route refuses a ``SecretValue`` (and a ``Secret``) or shows
only the mask: pickle at every protocol, copyreg and ``__reduce_ex__``,
``__getstate__``, jsonpickle, yaml, json with ``default=``, dataclasses, copy, vars."""

from __future__ import annotations

import copy
import copyreg
import dataclasses
import inspect
import json
import pickle
import warnings
from collections.abc import Callable
from typing import Any

import jsonpickle
import pytest
import yaml

from secretwire import MASK, Secret, SecretValue
from secretwire.testing import CANARY, assert_no_leak


def secret() -> Secret:
    return Secret(
        "db/password",
        SecretValue(CANARY),
        version="1",
        metadata={"owner": "team"},
        tags={"tier": "1"},
        provider="memory",
    )


def subjects() -> list[Any]:
    return [SecretValue(CANARY), secret(), {"nested": [SecretValue(CANARY)]}, [secret()]]


def outcome(route: Callable[[], Any]) -> str:
    """What a route produced, as text; a refusal shows as its error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # jsonpickle's own deprecation notices
            result = route()
    except (TypeError, ValueError, AttributeError, yaml.YAMLError) as err:
        return f"refused: {type(err).__name__}: {err}"
    if isinstance(result, bytes):
        return result.decode("latin-1")
    return result if isinstance(result, str) else repr(result)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("subject", subjects(), ids=["value", "secret", "in-dict", "in-list"])
def test_pickle_refuses_at_every_protocol(subject: Any, protocol: int) -> None:
    with pytest.raises(TypeError, match="refuses to be serialised"):
        pickle.dumps(subject, protocol=protocol)


ROUTES: dict[str, Callable[[Any], Any]] = {
    "reduce_ex-2": lambda s: s.__reduce_ex__(2),
    "reduce_ex-4": lambda s: s.__reduce_ex__(4),
    "reduce": lambda s: s.__reduce__(),
    "object.reduce_ex": lambda s: object.__reduce_ex__(s, 2),
    "copyreg": lambda s: copyreg._reduce_ex(s, 1),  # type: ignore[attr-defined]
    "getstate": lambda s: s.__getstate__(),
    "jsonpickle": jsonpickle.encode,
    "jsonpickle-plain": lambda s: jsonpickle.encode(s, unpicklable=False),
    "jsonpickle-keys": lambda s: jsonpickle.encode(s, keys=True, make_refs=False),
    "yaml.dump": yaml.dump,
    "yaml.unsafe": lambda s: yaml.dump(s, Dumper=yaml.Dumper),
    "yaml.safe_dump": yaml.safe_dump,
    "json": json.dumps,
    "json-default-str": lambda s: json.dumps(s, default=str),
    "json-default-repr": lambda s: json.dumps(s, default=repr),
    "json-default-vars": lambda s: json.dumps(s, default=vars),
    "json-default-dict": lambda s: json.dumps(s, default=lambda o: o.__dict__),
    "json-default-getstate": lambda s: json.dumps(s, default=lambda o: o.__getstate__()),
    "json-default-asdict": lambda s: json.dumps(s, default=dataclasses.asdict),
    "json-default-slots": lambda s: json.dumps(
        s, default=lambda o: {k: getattr(o, k) for k in type(o).__slots__}
    ),
    "vars": vars,
    "getmembers": inspect.getmembers,
    "object.getstate": getattr(object, "__getstate__", lambda o: None),
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
    "str": str,
}


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("subject", subjects(), ids=["value", "secret", "in-dict", "in-list"])
def test_every_route_refuses_or_masks(subject: Any, route: str) -> None:
    text = outcome(lambda: ROUTES[route](subject))
    assert_no_leak(text, CANARY)  # raw, repr- or JSON-escaped (jsonpickle escapes it)


@pytest.mark.parametrize("subject", [SecretValue(CANARY), secret()], ids=["value", "secret"])
@pytest.mark.parametrize(
    "route", ["reduce_ex-2", "reduce_ex-4", "reduce", "copyreg", "getstate", "yaml.dump"]
)
def test_the_pickle_protocol_routes_refuse(subject: Any, route: str) -> None:
    assert outcome(lambda: ROUTES[route](subject)).startswith("refused: TypeError")


def test_jsonpickle_writes_nothing_of_the_value() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert jsonpickle.encode(SecretValue(CANARY)) == "null"
        assert jsonpickle.encode({"k": SecretValue(CANARY)}, unpicklable=False) == '{"k": null}'
        assert jsonpickle.encode(secret()) == "null"


def test_json_default_str_shows_the_mask() -> None:
    assert json.dumps({"k": SecretValue(CANARY)}, default=str) == f'{{"k": "{MASK}"}}'


def test_dataclasses_asdict_and_astuple_keep_the_masked_value() -> None:
    as_dict = dataclasses.asdict(secret())
    assert isinstance(as_dict["value"], SecretValue)
    assert as_dict["value"].reveal() == CANARY
    assert CANARY not in repr(as_dict)
    assert json.dumps(as_dict, default=str).count(MASK) == 1
    assert CANARY not in repr(dataclasses.astuple(secret()))


def test_copies_are_the_same_immutable_objects() -> None:
    value, item = SecretValue(CANARY), secret()
    assert copy.copy(value) is value and copy.deepcopy(value) is value
    assert copy.copy(item) is item and copy.deepcopy(item) is item
    assert copy.deepcopy({"s": item})["s"] is item
    assert dataclasses.replace(item, version="2").value is item.value
