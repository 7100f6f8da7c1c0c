"""No import cycles in prune_ready: a cycle makes a module's meaning depend on which side was
imported first, and hides dependencies that run the wrong way (the pruning core reaching into
run directories). Imports inside functions are deferred on purpose and not counted; imports
under `if TYPE_CHECKING:` are, since they state the same dependency."""

import ast
from pathlib import Path

from tests.helpers import REPO

PACKAGE = REPO / "prune_ready"


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """The imports that run when the module is imported: at module level, in its if/try/with
    blocks (TYPE_CHECKING included) and class bodies, not in function bodies."""
    found, todo = [], list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            todo.extend(
                child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt)
            )
    return found


def imported(module: str, is_package: bool, node: ast.Import | ast.ImportFrom, known: set[str]):
    """The package modules an import statement loads."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in known}
    base = node.module or ""
    if node.level:
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - node.level + 1]
        base = ".".join([*anchor, base] if base else anchor)
    targets = set()
    for alias in node.names:
        child = f"{base}.{alias.name}"
        targets.add(child if child in known else base)
    return targets & known


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    known = {module_name(p) for p in paths}
    graph = {}
    for path in paths:
        module = module_name(path)
        tree = ast.parse(path.read_text(), str(path))
        edges = set()
        for node in top_level_imports(tree):
            edges |= imported(module, path.name == "__init__.py", node, known)
        graph[module] = edges - {module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` as a path that returns to its start, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_sees_imports_of_every_form():
    graph = import_graph()
    assert "prune_ready.models.description" in graph["prune_ready.compact"]  # from a import b
    assert "prune_ready.pruning.masks" in graph["prune_ready.predictors"]  # from pkg import mod
    assert graph["prune_ready.models"] >= {
        "prune_ready.models.conv6",
        "prune_ready.models.lenet_300_100",
    }
    assert (
        "prune_ready.analyze.read.collect" not in graph["prune_ready.predictors"]
    )  # in a function


def test_a_cycle_is_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_package_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, f"import cycle: {' -> '.join(cycle)}"


def test_the_analysis_reads_then_computes_then_writes():
    """analyze/read imports nothing from compute or write, and compute nothing from write: a new
    statistic never needs a figure's code, and a reader of runs never needs pandas' statistics."""
    stage = {"read": 0, "compute": 1, "write": 2}

    def stage_of(module: str) -> int | None:
        parts = module.split(".")
        return (
            stage.get(parts[2])
            if parts[:2] == ["prune_ready", "analyze"] and len(parts) > 3
            else None
        )

    graph = import_graph()
    assert {stage_of(m) for m in graph} >= {0, 1, 2}
    wrong = [
        f"{module} -> {target}"
        for module, targets in graph.items()
        for target in targets
        if stage_of(module) is not None
        and stage_of(target) is not None
        and stage_of(target) > stage_of(module)
    ]
    assert wrong == []
