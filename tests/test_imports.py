"""The package has no import cycle: every module's imports (module level and inside functions,
relative ones resolved) form a directed graph over the package's modules, which must be acyclic.

Edges. `import a.b.c` and `from a.b import c` depend on every module they name: the target, a
submodule imported by name, and each package on the way whose __init__ runs (sparseprop.engine
in `from .engine import heap`). A package that contains the importing module is not a
dependency by itself (it is always initialised first): `from . import equations` in
sparseprop/model.py depends on sparseprop.equations only. Naming such a package for one of its
attributes is a dependency on its __init__: `from .. import __version__` in sparseprop/codegen
depends on sparseprop, which imports nearly everything. `importlib.import_module("...")` with
a literal name counts too.
"""
import ast
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "sparseprop"


def package_modules(root=ROOT, package=PACKAGE):
    """Module name -> source file, for every .py file of the package (sub-packages included)
    and the packages pyproject.toml maps to other folders (sparseprop.models -> models/)."""
    modules = {}

    def add(folder, prefix):
        for path in sorted(folder.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join([prefix, *parts])] = path

    add(root / package, package)
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    mapped = pyproject.get("tool", {}).get("setuptools", {}).get("package-dir", {})
    for name, folder in mapped.items():
        if name.startswith(package + ".") and (root / folder).is_dir():
            add(root / folder, name)
    return modules


def _is_package(path):
    return path.name == "__init__.py"


def _resolve(module, is_package, level, name):
    """The absolute name of a (relative) import target, as the import system resolves it."""
    if level == 0:
        return name
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[:len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _ancestors(module, is_package):
    """The packages initialised before `module` runs (itself too, if it is a package)."""
    parts = module.split(".")
    return {".".join(parts[:k]) for k in range(1, len(parts) + (1 if is_package else 0))}


def imports_of(module, path, modules):
    """(target module, line) for every intra-package dependency of `module`."""
    is_package = _is_package(path)
    initialised = _ancestors(module, is_package)
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []

    def depend(target, line, explicit):
        # every package on the way to `target` runs its __init__, except those already running
        parts = target.split(".")
        for k in range(1, len(parts) + 1):
            name = ".".join(parts[:k])
            if name in modules and name not in initialised:
                found.append((name, line))
        if explicit and target in initialised and target in modules and target != module:
            found.append((target, line))   # an attribute of an enclosing package's __init__

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                depend(alias.name, node.lineno, explicit=alias.name.count(".") == 0)
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, is_package, node.level, node.module)
            depend(source, node.lineno, explicit=False)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in modules:
                    depend(submodule, node.lineno, explicit=False)
                else:   # a name defined by `source` itself: its module runs
                    depend(source, node.lineno, explicit=True)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) and (
                    isinstance(node.func, ast.Attribute) and node.func.attr == "import_module"
                    or isinstance(node.func, ast.Name) and node.func.id in ("import_module",
                                                                             "__import__")):
            name = node.args[0].value
            if name.startswith("."):
                level = len(name) - len(name.lstrip("."))
                name = _resolve(module, is_package, level, name.lstrip(".") or None)
            depend(name, node.lineno, explicit=True)
    return [(target, line) for target, line in found if target != module]


def import_graph(root=ROOT, package=PACKAGE):
    """module -> {imported module: first line importing it}, over the package's modules."""
    modules = package_modules(root, package)
    graph = {}
    for module, path in modules.items():
        edges = graph.setdefault(module, {})
        for target, line in imports_of(module, path, modules):
            edges.setdefault(target, line)
    return graph, modules


def simple_cycles(graph):
    """Every elementary cycle of a directed graph (node -> iterable of successors), each once,
    as a list of nodes starting at its smallest node (a self-loop is a cycle of one node)."""
    order = {node: k for k, node in enumerate(sorted(set(graph) | {t for ts in graph.values()
                                                                    for t in ts}))}
    cycles = []
    for start in sorted(order, key=order.get):
        # paths from `start` through nodes after it in the order, back to `start`
        stack = [(start, iter(sorted(graph.get(start, ()), key=order.get)))]
        path, on_path = [start], {start}
        while stack:
            node, successors = stack[-1]
            for nxt in successors:
                if nxt == start:
                    cycles.append(list(path))
                elif order[nxt] > order[start] and nxt not in on_path:
                    stack.append((nxt, iter(sorted(graph.get(nxt, ()), key=order.get))))
                    path.append(nxt)
                    on_path.add(nxt)
                    break
            else:
                stack.pop()
                on_path.discard(path.pop())
    return cycles


def describe(cycle, graph, modules):
    """'a -> b -> a' with the file and line of each import."""
    steps = []
    for k, module in enumerate(cycle):
        target = cycle[(k + 1) % len(cycle)]
        where = modules[module].relative_to(ROOT)
        steps.append(f"  {module} -> {target}   ({where}:{graph[module][target]})")
    return "\n".join(steps)


# -- the cycle finder itself, so the package test cannot pass by finding nothing ---------------
def test_the_cycle_finder_finds_cycles_and_passes_a_dag():
    assert simple_cycles({"a": ["b"], "b": ["c"], "c": ["a"]}) == [["a", "b", "c"]]
    assert simple_cycles({"a": ["b", "c"], "b": ["c", "d"], "c": ["d"], "d": []}) == []
    assert simple_cycles({"a": ["a"]}) == [["a"]]
    both = simple_cycles({"a": ["b"], "b": ["a", "c"], "c": ["b", "d"], "d": []})
    assert sorted(both) == [["a", "b"], ["b", "c"]]
    # two cycles through one node, and one long one around them
    many = simple_cycles({"x": ["y", "z"], "y": ["x", "z"], "z": ["x"]})
    assert sorted(many) == [["x", "y"], ["x", "y", "z"], ["x", "z"]]


def test_the_graph_sees_lazy_and_relative_imports(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("")
    (pkg / "__init__.py").write_text("VERSION = 1\nfrom .a import A\n")
    (pkg / "a.py").write_text("def f():\n    from .sub import b\n    return b\nA = 1\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "b.py").write_text("from .. import VERSION\nfrom . import c\n")
    (pkg / "sub" / "c.py").write_text("import importlib\nimportlib.import_module('pkg.a')\n")
    graph, modules = import_graph(tmp_path, "pkg")
    assert set(modules) == {"pkg", "pkg.a", "pkg.sub", "pkg.sub.b", "pkg.sub.c"}
    assert set(graph["pkg"]) == {"pkg.a"}
    assert set(graph["pkg.a"]) == {"pkg.sub", "pkg.sub.b"}      # lazy, inside a function
    assert set(graph["pkg.sub.b"]) == {"pkg", "pkg.sub.c"}     # `from ..` names pkg's attribute
    assert set(graph["pkg.sub.c"]) == {"pkg.a"}
    assert sorted(simple_cycles(graph)) == [["pkg", "pkg.a", "pkg.sub.b"],
                                            ["pkg.a", "pkg.sub.b", "pkg.sub.c"]]


# -- the package ------------------------------------------------------------------------------
def test_the_graph_covers_the_package():
    graph, modules = import_graph()
    for name in ("sparseprop", "sparseprop.model", "sparseprop.codegen",
                 "sparseprop.codegen.render", "sparseprop.engine", "sparseprop.engine.heap",
                 "sparseprop.models"):
        assert name in modules
    assert "sparseprop.model" in graph["sparseprop"]
    assert "sparseprop.errors" in graph["sparseprop.model"]


def test_the_package_has_no_import_cycle():
    graph, modules = import_graph()
    cycles = simple_cycles(graph)
    if cycles:
        pytest.fail(f"{len(cycles)} import cycle(s) in {PACKAGE}:\n" + "\n".join(
            f"{' -> '.join(c + c[:1])}\n{describe(c, graph, modules)}" for c in cycles),
            pytrace=False)


def test_the_version_has_one_value():
    """sparseprop/_version.py holds the version that code generation and the cache key read
    (they cannot import the package's __init__ without a cycle); the package exports it."""
    import sparseprop
    from sparseprop._version import __version__
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert sparseprop.__version__ == __version__ == pyproject["project"]["version"]
