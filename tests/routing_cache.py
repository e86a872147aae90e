"""Werkzeug's URL builders compiled once per rule for the whole test run.

Each ``create_app`` binds ~120 rules, and werkzeug compiles two builder functions for each
(an AST built, walked and compiled): 70 % of the time an app takes once its OpenAPI document
is cached (server/api), paid by every test. A builder depends only on the rule's text, host
or subdomain, parsed parts and defaults, the same in every app the suite builds, so the
first one compiled is reused; the URLs built are the same. Tests only: the server builds
its app once per process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import rules

_builders: dict[tuple[Any, ...], Callable[..., tuple[str, str]]] = {}
# werkzeug's own, kept for the test that compares the two (tests/unit/test_routing_cache.py).
uncached: Callable[..., Callable[..., tuple[str, str]]] | None = None


def install() -> None:
    """Wrap ``Rule._compile_builder`` (private: left alone if a werkzeug lacks it)."""
    global uncached
    compile_builder = getattr(rules.Rule, "_compile_builder", None)
    if compile_builder is None or getattr(compile_builder, "cached", False):
        return
    uncached = compile_builder

    def cached(self: rules.Rule, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        defaults = sorted((self.defaults or {}).items(), key=lambda item: item[0])
        key = (self.rule, self.host, self.subdomain, self.merge_slashes,
               tuple(self._trace), repr(defaults), append_unknown)
        builder = _builders.get(key)
        if builder is None:
            builder = _builders[key] = compile_builder(self, append_unknown)
        return builder

    cached.cached = True  # type: ignore[attr-defined]
    rules.Rule._compile_builder = cached  # type: ignore[method-assign]
