"""Every public value pickles and unpickles to an equal value that behaves the same.

A new public class must either get a case in ``tests/pickle_cases.py`` or a reasoned
entry in its ``EXCLUDED`` list; otherwise :func:`test_every_public_class_is_covered`
fails.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import pickle
import pkgutil
from typing import Any

import attrs
import pytest

import csmkit
from pickle_cases import CASES, EQUAL_BY, EXCLUDED

PROTOCOLS = range(2, pickle.HIGHEST_PROTOCOL + 1)


def _public_classes() -> dict[type[Any], str]:
    """Every class a public package exports, with the first name it is exported as."""
    found: dict[type[Any], str] = {}
    for info in pkgutil.walk_packages(csmkit.__path__, prefix="csmkit."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if inspect.isclass(value) and str(value.__module__).startswith("csmkit"):
                found.setdefault(value, f"{info.name}.{name}")
    return found


PUBLIC = _public_classes()


def _is_trivially_picklable(cls: type[Any]) -> bool:
    """Exceptions and enums pickle by the standard library's own rules (tested below)."""
    return issubclass(cls, (BaseException, enum.Enum))


def test_every_public_class_is_covered() -> None:
    missing = sorted(
        name
        for cls, name in PUBLIC.items()
        if cls not in CASES and cls not in EXCLUDED and not _is_trivially_picklable(cls)
    )
    assert not missing, f"public classes without a pickling case or exclusion: {missing}"
    stale = sorted(repr(cls) for cls in (*CASES, *EXCLUDED) if cls not in PUBLIC)
    assert not stale, f"cases for classes that are not public: {stale}"
    assert not set(CASES) & set(EXCLUDED)


def _has_value_equality(cls: type[Any]) -> bool:
    return any("__eq__" in vars(klass) for klass in cls.__mro__[:-1])


@pytest.mark.parametrize("cls", sorted(CASES, key=lambda cls: PUBLIC[cls]), ids=PUBLIC.get)
def test_round_trip_is_equal(cls: type[Any]) -> None:
    value = CASES[cls]()
    assert type(value) is cls
    for protocol in PROTOCOLS:
        data = pickle.dumps(value, protocol=protocol)
        assert b"<locals>" not in data
        loaded = pickle.loads(data)
        assert type(loaded) is cls
        again = pickle.loads(pickle.dumps(loaded, protocol=protocol))
        if cls in EQUAL_BY:
            view = EQUAL_BY[cls]
            assert view(loaded) == view(value)
            assert view(again) == view(value)
        else:
            assert _has_value_equality(cls), f"{cls.__name__} has no value equality"
            assert loaded == value
            assert again == value


@pytest.mark.parametrize(
    "cls", sorted((c for c in CASES if attrs.has(c)), key=PUBLIC.get), ids=PUBLIC.get
)
def test_derived_fields_stay_out_of_the_pickle(cls: type[Any]) -> None:
    """Caches and indexes (``init=False`` fields) are rebuilt on load, never pickled."""
    data = pickle.dumps(CASES[cls]())
    for field in attrs.fields(cls):
        if not field.init:
            assert field.name.encode() not in data, field.name
