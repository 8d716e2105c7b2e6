"""No import cycles in product code, found from the source as lint-imports finds them.

The layers contract in pyproject.toml orders diagnostics; this test covers both
packages, so a cycle in helpcenter (or one between modules the contract lists as
siblings) fails here too. Imports under TYPE_CHECKING run nothing and are left out.
"""

from __future__ import annotations

import grimp


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan), each sorted."""
    modules = sorted(m for m in graph.modules if ".migrations" not in m)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & set(modules)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in edges[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return sorted(found)


def test_product_code_has_no_import_cycle() -> None:
    graph = grimp.build_graph("helpcenter", "diagnostics", exclude_type_checking_imports=True)
    assert cycles(graph) == []


def test_it_finds_the_cycle_one_new_import_would_close() -> None:
    graph = grimp.build_graph("helpcenter", "diagnostics", exclude_type_checking_imports=True)
    graph.add_import(importer="diagnostics.coalesce", imported="diagnostics.runs")
    groups = [set(group) for group in cycles(graph)]
    assert any({"diagnostics.coalesce", "diagnostics.runs"} <= group for group in groups)
