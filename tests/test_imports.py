"""The package's modules import each other without cycles, counting imports inside
functions (a late import hides a cycle from Python, not from a reader)."""

import ast
from pathlib import Path

PACKAGE = "smartcharging"
ROOT = Path(__file__).parents[1] / PACKAGE


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_targets(path: Path) -> list[tuple[str, str | None]]:
    """Every ``(module, name)`` the file ``path`` imports, anywhere in it (``name``: the
    name taken from the module by ``from module import name``, else None)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets += [(base, alias.name) for alias in node.names]
    return targets


def import_graph() -> dict[str, set[str]]:
    """Each module of the package and the package's modules it imports. A name imported
    from a package's ``__init__`` counts as an import of the module it comes from (the
    ``__init__`` re-exports it), so re-exports do not make cycles of their own."""
    paths = {module_name(path): path for path in ROOT.rglob("*.py")}
    targets = {name: import_targets(path) for name, path in paths.items()}
    exported = {
        (name, alias): source
        for name, path in paths.items()
        if path.name == "__init__.py"
        for source, alias in targets[name]
        if alias is not None and source in paths
    }

    def resolve(module: str, alias: str | None) -> str:
        if alias is not None and f"{module}.{alias}" in paths:
            return f"{module}.{alias}"
        while alias is not None and (module, alias) in exported:
            module = exported[module, alias]
        while module and module not in paths:
            module = module.rpartition(".")[0]
        return module

    return {
        name: {resolve(*target) for target in found} - {"", name} for name, found in targets.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for child in sorted(graph[node]):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in on_stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_cycle_finder_finds_a_cycle_and_resolves_relative_imports() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    graph = import_graph()
    assert "smartcharging.config.limits" in graph["smartcharging.agents.safe_loading"]


def test_no_module_imports_itself_through_others() -> None:
    found = cycles(import_graph())
    assert found == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_configuration_imports_no_layer_above_it() -> None:
    """config/ validates parameters and derives values from them (the seed's cost rates
    included): it reads only its own modules, the shipped data and session logs
    (sessions/, which reads files into records), never the physics, environments, solvers
    or agents built on it; sessions/ holds to the same rule."""
    allowed = (
        "smartcharging.config",
        "smartcharging.data",
        "smartcharging.builtin_scenarios",
        "smartcharging.sessions",
        "smartcharging.atomic_files",
    )
    graph = import_graph()
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if module.startswith(("smartcharging.config", "smartcharging.sessions"))
        for target in targets
        if target.startswith(PACKAGE) and not target.startswith(allowed)
    )
    assert upward == []
