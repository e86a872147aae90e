"""The arrows of docs/architecture.md, checked on the source: ``server → sync → schemas``,
``offline_store → sync → schemas``, reconciliation below the scheduler, and the
configuration handed to everything below ``server/api`` instead of read from ``current_app``.

Each (arrow, module) pair is its own test, so a module already known to break an arrow is
marked on its own and a new offender anywhere else still fails.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import offline_store

ALLOWED = {"offline_store", "sync", "schemas", "cryptography", "__future__"}
PACKAGE = Path(offline_store.__file__).parent
ROOT = PACKAGE.parent
# server.clock reads the current app's clock and zone: below the API they are passed in.
CURRENT_APP = ("flask.current_app", "flask.globals.current_app", "server.clock")


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


def test_every_module_imports_only_what_the_device_may_use() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        foreign = _imported_roots(path) - ALLOWED - set(sys.stdlib_module_names)
        assert not foreign, f"{path.name} imports {sorted(foreign)}"


def test_loading_the_cli_loads_neither_flask_nor_the_server() -> None:
    code = ("import sys, offline_store.cli; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'server'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


# Every arrow of docs/architecture.md ---------------------------------------------------

@dataclass(frozen=True)
class Arrow:
    """Modules under ``folders`` (minus ``exempt``) never reach any of ``forbidden``."""

    name: str
    folders: tuple[str, ...]
    forbidden: tuple[str, ...]  # dotted names; a name also forbids everything below it
    exempt: tuple[str, ...] = ()

    def modules(self) -> list[str]:
        """The checked files, as paths relative to the repository root."""
        found = {path.relative_to(ROOT).as_posix()
                 for folder in self.folders for path in (ROOT / folder).rglob("*.py")}
        return sorted(found - set(self.exempt))


ARROWS = (
    Arrow("sync-below-server", ("sync",), ("server", "flask", "offline_store")),
    Arrow("schemas-at-the-bottom", ("schemas",), ("server", "flask", "sync", "offline_store")),
    Arrow("offline_store-without-server", ("offline_store",), ("server",)),
    Arrow("reconcile-below-scheduler", ("server/reconcile",), ("server.scheduler",)),
    # scheduler/process.py wires APScheduler to the app: it is where the app is at hand.
    Arrow("no-current_app-below-api",
          ("server/services", "server/reconcile", "server/training", "server/models",
           "server/scheduler", "sync", "schemas"),
          CURRENT_APP, exempt=("server/scheduler/process.py",)),
)

def _module_name(relative: str) -> str:
    return relative.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def _absolute(node: ast.ImportFrom, relative: str) -> str:
    """The module an ``ImportFrom`` names, with ``from . import x`` resolved."""
    if not node.level:
        return node.module or ""
    package = _module_name(relative).split(".")
    if not relative.endswith("__init__.py"):
        package = package[:-1]
    base = package[:len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _reached(relative: str) -> set[str]:
    """Every dotted name the module imports or reads off an imported module."""
    tree = ast.parse((ROOT / relative).read_text(encoding="utf-8"))
    names: set[str] = set()
    bound: dict[str, str] = {}  # local name → the module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.add(alias.name)
                bound[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, relative)
            names |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    for node in ast.walk(tree):  # ``import flask`` then ``flask.current_app``
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in bound):
            names.add(f"{bound[node.value.id]}.{node.attr}")
    return names


def _offences(relative: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(name for name in _reached(relative)
                  if any(name == bad or name.startswith(bad + ".") for bad in forbidden))


def _cases() -> list[object]:
    return [pytest.param(arrow, module, id=f"{arrow.name}:{module}")
            for arrow in ARROWS for module in arrow.modules()]


@pytest.mark.parametrize(("arrow", "module"), _cases())
def test_imports_follow_the_architecture_arrows(arrow: Arrow, module: str) -> None:
    assert _offences(module, arrow.forbidden) == [], f"{module} breaks {arrow.name}"
