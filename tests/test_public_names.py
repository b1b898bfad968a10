"""STYLE, "public names across packages": a csmkit package imports another package's
public names only.

A module of package ``A`` (``csmkit/A/...``) may import its own package's private
modules and names, and the shared bottom-layer helper modules of the root package
(``csmkit._time``, ``csmkit._jsonvalue``, ``csmkit._duration`` …: DESIGN.md's "bottom-layer
helpers that every part uses are written once"; they belong to no part, so every part may
use their public names). It may not import a private module or a private name of another
package ``B``: ``from csmkit.B._x import y``, ``import csmkit.B._x``,
``from csmkit.B import _x``, ``from csmkit.B.x import _y`` (also spelled relatively, and
also inside functions or ``TYPE_CHECKING`` blocks), nor a private name of a shared helper
(``from csmkit._time import _x``). The root package's own modules (``csmkit/hookspecs.py``
…) are held to the same rule towards every sub-package.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

import csmkit

SRC = Path(csmkit.__file__).resolve().parent


def _module_name(path: Path, root: Path) -> tuple[str, bool]:
    """The dotted name of the module at ``path`` and whether it is a package ``__init__``."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _packages(root: Path) -> frozenset[str]:
    """csmkit's sub-packages (the parts): directories with an ``__init__.py``."""
    return frozenset(child.name for child in root.iterdir() if (child / "__init__.py").is_file())


def _owner(module: str, packages: frozenset[str]) -> str:
    """The part a module belongs to: its sub-package, or ``""`` for the root's modules."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in packages else ""


def _private(parts: list[str]) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in parts)


def _breach(module: str, target: str, names: list[str], packages: frozenset[str]) -> str | None:
    """Why importing ``names`` from ``target`` (``[]``: ``import target``) breaks the rule."""
    parts = target.split(".")
    if parts[0] != "csmkit" or len(parts) < 2:
        return None
    owner = _owner(module, packages)
    if parts[1] in packages:
        if parts[1] == owner:
            return None  # the package's own private modules and names
        if _private(parts[2:]):
            return f"private module {target}"
        private = [name for name in names if _private([name])]
        if private:
            return f"private name(s) {', '.join(private)} of {target}"
        return None
    # a module of the root package: csmkit.errors, csmkit.hookspecs, or a shared helper
    # (csmkit._time …); its public names are for everyone, its private ones for itself
    private = [name for name in names if _private([name]) and name != "__version__"]
    if private and module != target:
        return f"private name(s) {', '.join(private)} of {target}"
    return None


def violations(root: Path) -> list[str]:
    """Every import in the csmkit sources under ``root`` that breaks the rule."""
    packages = _packages(root)
    found: list[str] = []
    for path in sorted(root.rglob("*.py")):
        module, is_package = _module_name(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imports = [(alias.name, []) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(module, is_package, node)
                imports = [(target, [alias.name for alias in node.names])]
            else:
                continue
            for target, names in imports:
                why = _breach(module, target, names, packages)
                if why is not None:
                    where = path.relative_to(root.parent)
                    found.append(f"{where}:{node.lineno}: {module} imports {why}")
    return found


def test_no_package_imports_another_packages_private_names() -> None:
    assert violations(SRC) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "csmkit"
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    for package in ("timeline", "storage"):
        (root / package).mkdir(exist_ok=True)
        (root / package / "__init__.py").touch()
    return root


@pytest.mark.parametrize(
    "line",
    [
        "from csmkit.timeline._trusted import stored_events",
        "import csmkit.timeline._trusted",
        "import csmkit.timeline._trusted as trusted",
        "from csmkit.timeline import _trusted",
        "from csmkit.timeline.trusted import _fast_events",
        "from ..timeline._trusted import stored_events",
        "from ..timeline import _codec",
        "from csmkit._time import _private_helper",
        "def f():\n    from csmkit.timeline._events import trusted_event",
        "if TYPE_CHECKING:\n    from csmkit.timeline._ticket import Ticket",
    ],
)
def test_the_check_finds_each_spelling_of_a_breach(tmp_path: Path, line: str) -> None:
    root = _tree(tmp_path, {"storage/_sqlite.py": line + "\n"})
    found = violations(root)
    assert len(found) == 1, found
    assert found[0].startswith("csmkit/storage/_sqlite.py:")


@pytest.mark.parametrize(
    "line",
    [
        "from csmkit.timeline import Timeline",
        "from csmkit.timeline.trusted import stored_events",
        "import csmkit.timeline",
        "from csmkit.storage._common import fold_batch",  # its own package
        "from csmkit.storage import _common",
        "from . import _common",
        "from ._common import fold_batch",
        "from csmkit._time import parse_instant",  # a shared bottom-layer helper
        "from csmkit._jsonvalue import EMPTY",
        "from csmkit._version import __version__",
        "from csmkit.errors import StorageError",
        "import json",
    ],
)
def test_the_check_allows_public_names_and_own_privates(tmp_path: Path, line: str) -> None:
    root = _tree(tmp_path, {"storage/_sqlite.py": line + "\n"})
    assert violations(root) == []


def test_root_modules_may_not_reach_into_a_part(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"hookspecs.py": "from csmkit.storage._model import Change\n"})
    assert violations(root) == [
        "csmkit/hookspecs.py:1: csmkit.hookspecs imports private module csmkit.storage._model"
    ]
