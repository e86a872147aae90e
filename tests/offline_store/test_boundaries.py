"""offline_store stays a light device package: stdlib, cryptography, sync and schemas only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import offline_store

ALLOWED = {"offline_store", "sync", "schemas", "cryptography", "__future__"}
PACKAGE = Path(offline_store.__file__).parent


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
