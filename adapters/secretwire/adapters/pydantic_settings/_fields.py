"""What a settings model's fields say: the defaults that hold references, which
fields may receive a secret, and validation errors with resolved inputs masked."""

from __future__ import annotations

import types
import typing
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Union

from pydantic import BaseModel, Secret, SecretBytes, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import InitErrorDetails, PydanticCustomError, PydanticUndefined

from secretwire import MASK, TreePath, contains_reference, format_location, walk_strings

# -- field defaults --------------------------------------------------------------------


def with_defaults(
    model: type[BaseModel],
    data: dict[str, Any],
    labels: dict[TreePath, str],
    path: TreePath = (),
    names: tuple[str, ...] = (),
) -> dict[str, Any]:
    """``data`` plus the defaults of absent fields that hold references (also inside
    nested models, next to their present fields); each reference's path goes into
    ``labels`` as ``field default NAME``. ``data`` is not modified."""
    out = data
    for name, info in model.model_fields.items():
        keys = _input_keys(name, info)
        present = next((key for key in keys if key in data), None)
        key = keys[0] if present is None else present
        value = _default_text(info.default) if present is None else data[present]
        if value is PydanticUndefined or value is None:
            continue  # default_factory is not called here: see the docs' caveats
        nested = _model_class(info.annotation)
        if nested is not None and isinstance(value, dict):
            value = with_defaults(nested, value, labels, (*path, key), (*names, name))
        if present is None:
            found = [inner for inner, text in walk_strings(value) if contains_reference(text)]
            for inner in found:
                site = (*path, key, *inner)
                labels[site] = "field default " + format_location((*names, name, *inner))
            if not found:
                continue
        elif value is data[present]:
            continue
        out = dict(out) if out is data else out
        out[key] = value
    return out


def _input_keys(name: str, info: FieldInfo) -> list[str]:
    keys: list[str] = []
    alias = info.validation_alias
    if isinstance(alias, str):
        keys.append(alias)
    elif alias is not None and hasattr(alias, "choices"):
        keys.extend(choice for choice in alias.choices if isinstance(choice, str))
    if info.alias:
        keys.append(info.alias)
    keys.append(name)
    return list(dict.fromkeys(keys))


def _model_class(annotation: Any) -> type[BaseModel] | None:
    annotation = _strip(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _default_text(value: Any) -> Any:
    """A default as the resolver sees it: secret wrappers opened, models as dicts."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, SecretBytes):
        try:
            return value.get_secret_value().decode()
        except UnicodeDecodeError:
            return value
    if isinstance(value, BaseModel):
        return {name: _default_text(getattr(value, name)) for name in value.model_fields_set}
    return value


# -- which fields may receive a secret ---------------------------------------------------


def unmasked(model: type[BaseModel], path: TreePath, config: Mapping[str, Any]) -> str | None:
    """Why a secret may not go to ``path``, or None when the type there masks it."""
    annotation, names = _annotation_at(model, path)
    if annotation is not None and _is_masked(annotation):
        return None
    allowed = config.get("secretwire_allow_unmasked", False)
    dotted = ".".join(names)
    if allowed is True or (
        not isinstance(allowed, bool)
        and any(dotted == entry or dotted.startswith(entry + ".") for entry in allowed)
    ):
        return None
    kind = getattr(_strip(annotation), "__name__", None) or str(annotation)
    return (
        f"field {dotted} is {'of unknown type' if annotation is None else kind}, which would show "
        "the secret in repr() and model_dump(); declare it SecretStr (or SecretBytes, "
        f"Secret[...]) or allow it with secretwire_allow_unmasked={{{dotted!r}}}"
    )


def _strip(annotation: Any) -> Any:
    """``Annotated[X, ...]`` → X and ``X | None`` → X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin is Union or origin is types.UnionType:
            arms = [arm for arm in typing.get_args(annotation) if arm is not type(None)]
            if len(arms) == 1:
                annotation = arms[0]
                continue
        return annotation


def _is_masked(annotation: Any) -> bool:
    annotation = _strip(annotation)
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        arms = [arm for arm in typing.get_args(annotation) if arm is not type(None)]
        return all(_is_masked(arm) for arm in arms)
    base = origin or annotation
    return isinstance(base, type) and issubclass(base, SecretStr | SecretBytes | Secret)


def _field_for(model: type[BaseModel], key: str) -> tuple[str, FieldInfo] | None:
    for name, info in model.model_fields.items():
        if key in _input_keys(name, info):
            return name, info
    lowered = key.lower()
    for name, info in model.model_fields.items():
        if lowered in (k.lower() for k in _input_keys(name, info)):
            return name, info
    return None


def _annotation_at(model: type[BaseModel], path: TreePath) -> tuple[Any, tuple[str, ...]]:
    """The type a value at ``path`` is validated as (None if unknown), and the
    field-name path."""
    annotation: Any = model
    names: list[str] = []
    for depth, part in enumerate(path):
        annotation = _strip(annotation)
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found = _field_for(annotation, str(part))
            if found is None:
                return None, (*names, *(str(p) for p in path[depth:] if isinstance(p, str)))
            names.append(found[0])
            annotation = found[1].annotation
        elif isinstance(origin, type) and issubclass(origin, Mapping) and len(args) == 2:
            names.append(str(part))
            annotation = args[1]
        elif isinstance(origin, type) and issubclass(origin, Sequence | Collection) and args:
            fixed = origin is tuple and Ellipsis not in args
            annotation = (
                args[part] if fixed and isinstance(part, int) and part < len(args) else args[0]
            )
            if isinstance(part, str):
                names.append(part)
        else:
            return None, (*names, *(str(p) for p in path[depth:] if isinstance(p, str)))
    return annotation, tuple(names)


# -- validation errors -----------------------------------------------------------------


def masked_validation_error(
    err: ValidationError, resolved: Sequence[TreePath]
) -> ValidationError | None:
    """``err`` with the input of every error about a resolved value replaced by the
    mask, or None when no error concerns one."""
    errors = err.errors()
    hits = [any(_related(tuple(e["loc"]), path) for path in resolved) for e in errors]
    if not any(hits):
        return None
    details: list[InitErrorDetails] = []
    custom: list[InitErrorDetails] = []
    for error, hit in zip(errors, hits, strict=True):
        value = MASK if hit else error["input"]
        detail = InitErrorDetails(type=error["type"], loc=error["loc"], input=value)
        if "ctx" in error:
            detail["ctx"] = error["ctx"]
        details.append(detail)
        custom.append(
            InitErrorDetails(
                type=PydanticCustomError(error["type"], error["msg"]), loc=error["loc"], input=value
            )
        )
    try:
        return ValidationError.from_exception_data(err.title, details, hide_input=True)
    except (KeyError, TypeError, ValueError):  # a type pydantic-core cannot rebuild
        return ValidationError.from_exception_data(err.title, custom, hide_input=True)


def _related(loc: tuple[Any, ...], path: TreePath) -> bool:
    shorter = min(len(loc), len(path))
    return tuple(loc[:shorter]) == tuple(path[:shorter])
