"""Fail if any two modules of medsearch_app import each other, directly or through others.

import-linter's layer contracts keep the rooms in order; this checks inside them too (lazy
imports inside functions count). Run: .venv/bin/python scripts/check_cycles.py"""
from __future__ import annotations

import sys

import grimp


def cycles(package: str = "medsearch_app") -> list[list[str]]:
    graph = grimp.build_graph(package)
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(m: str) -> None:  # Tarjan's strongly connected components
        index[m] = low[m] = len(index)
        stack.append(m)
        on_stack.add(m)
        for n in sorted(graph.find_modules_directly_imported_by(m)):
            if n not in index:
                visit(n)
                low[m] = min(low[m], low[n])
            elif n in on_stack:
                low[m] = min(low[m], index[n])
        if low[m] == index[m]:
            component = []
            while True:
                n = stack.pop()
                on_stack.discard(n)
                component.append(n)
                if n == m:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for m in modules:
        if m not in index:
            visit(m)
    return found


if __name__ == "__main__":
    result = cycles()
    for c in result:
        print("import cycle:", " <-> ".join(c))
    print(f"{len(result)} import cycle(s)")
    sys.exit(1 if result else 0)
