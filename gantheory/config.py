"""Config dataclasses: defaults live beside the code, overrides are checked.

Every trainer and claim keeps its defaults in a frozen dataclass. Users change them through
:func:`override`, which rejects unknown names and converts strings from the command line to the
field's type, so a typo never silently falls back to a default (nanoGPT/minGPT style).
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from typing import Any, Mapping, TypeVar

from .errors import ConfigError

C = TypeVar("C")


def _coerce(name: str, value: Any, target: Any) -> Any:
    if not isinstance(value, str) or target is str or target is Any:
        return value
    origin = typing.get_origin(target)
    if origin is typing.Union or origin is getattr(__import__("types"), "UnionType", None):
        args = [a for a in typing.get_args(target) if a is not type(None)]
        if value.lower() in ("none", "null"):
            return None
        return _coerce(name, value, args[0]) if args else value
    if origin is typing.Literal:
        choices = typing.get_args(target)
        if value not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(map(str, choices))}, got {value!r}")
        return value
    try:
        if target is bool:
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if target in (int, float):
            return target(value)
    except ValueError:
        raise ConfigError(f"{name} expects {target.__name__}, got {value!r}") from None
    return value


def override(cfg: C, overrides: Mapping[str, Any] | None = None, **kwargs: Any) -> C:
    """Return a copy of the dataclass ``cfg`` with fields replaced; unknown names are errors.

    String values (from a command line) are converted to the field's annotated type.
    ``Literal`` fields are checked against their choices.
    """
    changes = dict(overrides or {}, **kwargs)
    hints = typing.get_type_hints(type(cfg))
    names = {f.name for f in dataclasses.fields(cfg)}
    unknown = sorted(set(changes) - names)
    if unknown:
        raise ConfigError(
            f"unknown {type(cfg).__name__} option(s): {', '.join(unknown)} "
            f"(known: {', '.join(sorted(names))})"
        )
    coerced = {k: _coerce(k, v, hints.get(k, Any)) for k, v in changes.items()}
    for k, v in coerced.items():
        target = hints.get(k)
        if typing.get_origin(target) is typing.Literal and v not in typing.get_args(target):
            choices = ", ".join(map(str, typing.get_args(target)))
            raise ConfigError(f"{k} must be one of {choices}, got {v!r}")
    new = dataclasses.replace(cfg, **coerced)
    check = getattr(new, "check", None)
    if callable(check):
        check()
    return new


def as_dict(cfg: Any) -> dict:
    """A JSON-ready dict of a config dataclass."""
    return dataclasses.asdict(cfg)


def _field_notes(cls: type) -> dict[str, str]:
    """The comment beside each field in the class's source (``name: type = default  # note``)."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):  # no source (a frozen build): a table without the notes
        return {}
    return {m.group(1): m.group(2).strip()
            for m in re.finditer(r"^\s+(\w+): [^=\n]+= [^#\n]+#\s*(.+)$", source, re.M)}


def _type_name(t: Any) -> str:
    if typing.get_origin(t) is typing.Literal:
        return "|".join(map(str, typing.get_args(t)))
    return getattr(t, "__name__", str(t))


def settings_help(cfg: Any, title: str) -> str:
    """Every field of the config dataclass ``cfg``: name, type, its value in ``cfg``, the note
    beside it in the source; one line each under ``title`` (the ``--set`` keys a command takes)."""
    hints, notes = typing.get_type_hints(type(cfg)), _field_notes(type(cfg))
    rows = [(f.name, _type_name(hints[f.name]), repr(getattr(cfg, f.name)))
            for f in dataclasses.fields(cfg)]
    if not rows:
        return f"{title}\n  (none: nothing to set)"
    w0, w1 = (max(len(r[i]) for r in rows) for i in (0, 1))
    lines = [title]
    for name, kind, default in rows:
        note = notes.get(name, "")
        lines.append(f"  {name:{w0}s}  {kind:{w1}s}  {default}" + (f"  {note}" if note else ""))
    return "\n".join(lines)
