"""Every csmkit package and public module exports a sorted, complete ``__all__``."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import pytest

import csmkit


def _public_modules() -> list[str]:
    names = ["csmkit"]
    for info in pkgutil.walk_packages(csmkit.__path__, prefix="csmkit."):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts[1:]):
            continue
        names.append(info.name)
    return names


PUBLIC_MODULES = _public_modules()


def _isort_key(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    if name.isupper() or (name.upper() == name and "_" in name):
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def _defined_public_names(module: ModuleType) -> set[str]:
    """Names a user can reach that are meant for them: no leading underscore, not modules,
    not ``annotations`` from ``__future__``, and defined inside csmkit."""
    out = set()
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, ModuleType) or name == "annotations":
            continue
        origin = getattr(value, "__module__", None)
        if origin is not None and not str(origin).startswith("csmkit"):
            continue
        out.add(name)
    return out


def test_there_are_public_modules() -> None:
    assert {"csmkit", "csmkit.errors", "csmkit.timeline", "csmkit.conditions"} <= set(
        PUBLIC_MODULES
    )


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert list(exported) == sorted(exported, key=_isort_key), f"{name}.__all__ is not sorted"
    assert len(set(exported)) == len(exported), f"{name}.__all__ has duplicates"
    for item in exported:
        assert hasattr(module, item), f"{name}.__all__ names missing {item!r}"
    missing = _defined_public_names(module) - set(exported) - {"__version__"}
    assert not missing, f"{name} defines public names not in __all__: {sorted(missing)}"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_public_names_have_docstrings(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__, f"{name} has no module docstring"
    for item in module.__all__:
        value = getattr(module, item)
        if callable(value) and not isinstance(value, type(Ellipsis)):
            assert getattr(value, "__doc__", None), f"{name}.{item} has no docstring"
