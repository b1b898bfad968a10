"""Rewrite Sphinx cross-reference roles in csmkit's sources to mkdocstrings cross-references.

The API reference is built by mkdocstrings, which reads Markdown references
(``[`Timeline`][csmkit.timeline.Timeline]``); a Sphinx role (``:class:`Timeline```) would be
shown to readers as literal text. ``tests/docs/test_docs_site.py`` fails on any role left in
``src/`` or ``docs/``; this script is how to fix what it finds.

Run from the repository root::

    PYTHONPATH=src python tools/convert_roles.py          # rewrite in place
    PYTHONPATH=src python tools/convert_roles.py --check  # list what would change, exit 1 if any

A role becomes a link only when its target resolves to a name the reference renders (a public
module, a name in a public package's ``__all__``, or a member defined on such a class); it is
resolved from where it is written: a bare ``:meth:`check``` inside a class's docstrings is that
class's method, a bare name is looked up in the enclosing module (then its package's public
names). Anything else becomes a plain code span. Lines pushed over the line-length limit are
wrapped, continuation lines keeping the indentation of a Google-style section item.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import pkgutil
import re
import sys
import types
from pathlib import Path
from typing import Any

ROLE = re.compile(r":(?:py:)?(func|class|meth|mod|attr|exc|data|obj|const):`([^`]+)`")
LINE_LENGTH = 100
_MISSING = object()


class PublicNames:
    """Every path the API reference renders, and the public path of every public object."""

    def __init__(self) -> None:
        import csmkit

        self.documented: set[str] = set()
        self._griffe: Any = None
        self.by_identity: dict[int, str] = {}
        for info in sorted(pkgutil.iter_modules(csmkit.__path__), key=lambda i: i.name):
            if info.name.startswith("_"):
                continue
            module_path = f"csmkit.{info.name}"
            module = importlib.import_module(module_path)
            self.documented.add(module_path)
            for name in getattr(module, "__all__", []):
                obj = getattr(module, name)
                path = f"{module_path}.{name}"
                self.documented.add(path)
                home = getattr(obj, "__module__", "") or ""
                known = self.by_identity.get(id(obj))
                # an object exported twice is documented where it is defined
                if known is None or home.startswith(module_path + "."):
                    self.by_identity[id(obj)] = path
                if inspect.isclass(obj):
                    for member in _own_members(obj):
                        self.documented.add(f"{path}.{member}")
        # a short name (``Timeline``, ``Workflow.fire``) that names exactly one documented path
        short: dict[str, set[str]] = {}
        for path in self.documented:
            parts = path.split(".")
            for cut in range(2, len(parts)):
                short.setdefault(".".join(parts[cut:]), set()).add(path)
        self.unique = {name: paths.pop() for name, paths in short.items() if len(paths) == 1}
        self.unique = {name: path for name, path in self.unique.items() if self.renders(path)}

    def public_path(self, obj: object) -> str | None:
        return self.by_identity.get(id(obj))

    def renders(self, path: str) -> bool:
        """Whether the reference has an entry for ``path`` (undocumented names are hidden)."""
        if path not in self.documented:
            return False
        if path.count(".") == 1:
            return True  # a public module
        if self._griffe is None:
            import griffe  # the docs extra

            self._griffe = griffe.load("csmkit", search_paths=[str(Path.cwd() / "src")])
        try:
            obj = self._griffe[path.removeprefix("csmkit.")]
            target = obj.final_target if obj.is_alias else obj
        except (KeyError, griffe_errors()):
            return False
        return bool(target.docstring and target.docstring.value.strip())


def griffe_errors() -> type[Exception]:
    import griffe

    return griffe.AliasResolutionError


def _own_members(cls: type) -> set[str]:
    """Members the reference shows on ``cls``: its own, and those of private csmkit bases.

    A page renders what a public class inherits from csmkit's private mix-ins (for example
    ``ServiceDesk``) with mkdocstrings' ``inherited_members`` option; members inherited from
    another public class are documented on that class instead.
    """
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass is not cls and not _private_csmkit_class(klass):
            continue
        names |= {name for name in vars(klass) if not name.startswith("_")}
        names |= {n for n in vars(klass).get("__annotations__", {}) if not n.startswith("_")}
    return names


def _private_csmkit_class(klass: type) -> bool:
    module = klass.__module__
    if not module.startswith("csmkit."):
        return False
    package = importlib.import_module(".".join(module.split(".")[:2]))
    return klass.__name__ not in getattr(package, "__all__", ())


def _walk(obj: object, parts: list[str]) -> object:
    for part in parts:
        obj = getattr(obj, part, _MISSING)
        if obj is _MISSING:
            return _MISSING
    return obj


class Resolver:
    """Resolves a role's target from the module (and class) it is written in."""

    def __init__(self, names: PublicNames, module: types.ModuleType | None) -> None:
        self.names = names
        self.module = module

    def _via_object(self, base: object, parts: list[str]) -> str | None:
        """The public path of ``base.parts[0]...``, keeping members after a public class."""
        obj = base
        for cut, part in enumerate(parts):
            obj = getattr(obj, part, _MISSING)
            if obj is _MISSING:
                return None
            public = self.names.public_path(obj)
            if public is not None:
                path = ".".join([public, *parts[cut + 1 :]])
                return path if self.names.renders(path) else None
        return None

    def resolve(self, target: str, classes: list[str]) -> str | None:
        parts = target.split(".")
        if self.names.renders(target):
            return target
        if parts[0] == "csmkit":
            for cut in range(len(parts), 1, -1):
                try:
                    base = importlib.import_module(".".join(parts[:cut]))
                except ImportError:
                    continue
                found = self._via_object(base, parts[cut:]) if cut < len(parts) else None
                return found
            return None
        if self.module is None:
            return self.names.unique.get(target)
        # innermost enclosing class first: a bare method name is that class's method
        for depth in range(len(classes), 0, -1):
            owner = _walk(self.module, classes[:depth])
            if owner is _MISSING:
                continue
            found = self._via_object(self.module, [*classes[:depth], *parts])
            if found is not None:
                return found
        found = self._via_object(self.module, parts)
        if found is not None:
            return found
        package_name = self.module.__name__.split(".")[:2]
        if len(package_name) == 2:
            package = importlib.import_module(".".join(package_name))
            found = self._via_object(package, parts)
            if found is not None:
                return found
        return self.names.unique.get(target)


def _docstring_classes(tree: ast.Module) -> dict[int, list[str]]:
    """For each source line, the chain of classes it is written inside."""
    owners: dict[int, list[str]] = {}

    def visit(node: ast.AST, chain: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                inner = [*chain, child.name]
                for line in range(child.lineno, (child.end_lineno or child.lineno) + 1):
                    owners[line] = inner
                visit(child, inner)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, chain)

    visit(tree, [])
    return owners


def _docstring_lines(tree: ast.Module) -> set[int]:
    """Lines of docstrings, attribute docstrings included (only those are safe to wrap)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def _wrap(line: str, following: str | None) -> list[str]:
    """Split ``line`` at spaces so every piece fits, with a continuation indentation."""
    if len(line) <= LINE_LENGTH:
        return [line]
    indent = len(line) - len(line.lstrip())
    next_indent = len(following) - len(following.lstrip()) if following and following.strip() else 0
    stripped = line.lstrip()
    if next_indent > indent:
        cont = next_indent
    elif re.match(r"[*\w.]+( \([^)]*\))?: ", stripped) and not stripped.startswith(">>>"):
        cont = indent + 4
    else:
        cont = indent
    pieces: list[str] = []
    current = line
    while len(current) > LINE_LENGTH:
        # break at a space outside a link's brackets and outside a code span
        best = -1
        depth = 0
        ticks = 0
        for index, char in enumerate(current):
            if index > LINE_LENGTH:
                break
            if char == "`":
                ticks ^= 1
            elif char == "[":
                depth += 1
            elif char == "]":
                depth = max(0, depth - 1)
            elif char == " " and not depth and not ticks and index > cont + 1:
                best = index
        if best <= (len(current) - len(current.lstrip())):
            break
        pieces.append(current[:best].rstrip())
        current = " " * cont + current[best + 1 :].lstrip()
    pieces.append(current)
    return pieces


def _continues(piece: str, following: str | None, in_docstring: bool) -> bool:
    """Whether ``following`` is the next line of the paragraph ``piece`` was cut from."""
    if not in_docstring or following is None or not following.strip():
        return False
    text = following.strip()
    indent = len(following) - len(following.lstrip())
    if indent != len(piece) - len(piece.lstrip()):
        return False
    if text.startswith(('"""', ">>>", "...", "```", "- ", "* ", "|")):
        return False
    return not re.match(r"([*\w.]+( \([^)]*\))?:( |$)|\d+\. )", text)


def convert_file(path: Path, names: PublicNames, root: Path) -> tuple[str, list[str]]:
    text = path.read_text(encoding="utf-8")
    if not ROLE.search(text):
        return text, []
    rel = path.relative_to(root / "src")
    module_name = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
    try:
        module: types.ModuleType | None = importlib.import_module(module_name)
    except ImportError:
        module = None
    resolver = Resolver(names, module)
    tree = ast.parse(text)
    owners = _docstring_classes(tree)
    wrappable = _docstring_lines(tree)
    notes: list[str] = []
    warnings: list[str] = []
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    carry = ""  # the end of a wrapped line, flowed into the next line of its paragraph
    for number, raw in enumerate(lines, 1):
        body = raw.rstrip("\r\n")
        ending = raw[len(body) :]
        if carry:
            indent = len(body) - len(body.lstrip())
            body = " " * indent + carry + " " + body.lstrip()
            carry = ""
        elif not ROLE.search(body):
            out.append(raw)
            continue

        def convert(match: re.Match[str], number: int = number) -> str:
            role, written = match.groups()
            tilde = written.startswith("~")
            target = written.lstrip("~.").removesuffix("()")
            label = target.rsplit(".", 1)[-1] if tilde else target
            if role in {"func", "meth"}:
                label += "()"
            found = resolver.resolve(target, owners.get(number, []))
            notes.append(f"{rel}:{number}: {match.group(0)} -> {found or 'code span'}")
            return f"[`{label}`][{found}]" if found else f"`{label}`"

        new = ROLE.sub(convert, body)
        following = lines[number].rstrip("\r\n") if number < len(lines) else None
        if number in wrappable:
            pieces = _wrap(new, following)
            if len(pieces) > 1 and _continues(pieces[-1], following, number + 1 in wrappable):
                carry = pieces.pop().lstrip()
            out.extend(piece + ending for piece in pieces)
        else:
            out.append(new + ending)
            if len(new) > LINE_LENGTH:
                warnings.append(f"{rel}:{number}: longer than {LINE_LENGTH}; wrap it by hand")
    for warning in warnings:
        print(warning, file=sys.stderr)
    return "".join(out), notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a role is left"
    )
    parser.add_argument("--verbose", action="store_true", help="print every conversion")
    args = parser.parse_args(argv)
    root = Path.cwd()
    sys.path.insert(0, str(root / "src"))
    names = PublicNames()
    changed = 0
    total: list[str] = []
    for path in sorted((root / "src" / "csmkit").rglob("*.py")):
        new, notes = convert_file(path, names, root)
        if not notes:
            continue
        changed += 1
        total.extend(notes)
        if not args.check:
            path.write_text(new, encoding="utf-8")
    if (args.verbose or args.check) and total:
        print("\n".join(total))
    links = sum(1 for note in total if not note.endswith("code span"))
    verb = "would change" if args.check else "changed"
    spans = len(total) - links
    print(f"{len(total)} roles in {changed} files {verb}: {links} links, {spans} code spans")
    return 1 if args.check and total else 0


if __name__ == "__main__":
    sys.exit(main())
