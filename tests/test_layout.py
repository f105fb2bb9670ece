"""The layout tells the architecture: no import cycles, the engine never draws, every module is documented."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("explorer", "ui")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The project's modules that `name` imports at module level (submodules named in `from x import y` too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            targets = [source] + [f"{source}.{a.name}" for a in node.names]
        else:
            continue
        found |= {t for t in targets if t in known and t != name}
    return found


def test_no_import_cycles():
    mods = modules()
    graph = {name: imports_of(name, path, set(mods)) for name, path in mods.items()}
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(stack[stack.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    # a package's __init__ importing its own submodules, which import siblings, is not a cycle; a submodule
    # importing its own package's __init__ back is
    real = [c for c in cycles if not all(step.startswith(c.split(" -> ")[0]) for step in c.split(" -> "))]
    assert not real, "import cycles:\n" + "\n".join(real)
    assert not [c for c in cycles if c.count(" -> ") == 1], cycles


@pytest.mark.parametrize("name", [n for n in modules() if n.startswith("explorer")])
def test_the_engine_never_imports_streamlit_or_plotly_or_ui(name):
    tree = ast.parse(modules()[name].read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    froms = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and not n.level]
    imported |= {(n.module or "").split(".")[0] for n in froms}
    assert not imported & {"streamlit", "plotly", "ui"}, imported  # graphviz (DOT text) is data


def test_no_function_level_imports_in_the_engine():
    """Imports sit at the top of each module; the one allowed exception says why (a measured import cost)."""
    offenders = []
    for name, path in modules().items():
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Import | ast.ImportFrom) and "noqa: PLC0415" not in lines[sub.lineno - 1]:
                        offenders.append(f"{name}:{sub.lineno}")
    assert not offenders


def test_every_module_is_named_in_the_developer_guide():
    guide = (ROOT / "docs" / "DEVELOPING.md").read_text()
    missing = []
    for path in modules().values():
        rel = path.relative_to(ROOT)
        short = rel.name if rel.name != "__init__.py" else rel.parent.name + "/"
        if path.name == "__init__.py" and path.read_text().strip() == "":
            continue
        if str(rel) not in guide and not re.search(rf"(?<![\w/]){re.escape(short)}", guide):
            missing.append(str(rel))
    assert not missing, f"not described in docs/DEVELOPING.md: {missing}"


def test_names_say_what_not_when():
    tracked = [p for d in ("explorer", "ui", "app_pages", "tests", "benchmarks", "docs") for p in (ROOT / d).rglob("*")]
    tracked = [p for p in tracked if p.is_file() and p.suffix in (".py", ".md")] + [ROOT / "README.md", ROOT / "app.py"]
    assert not [p for p in tracked if re.search(r"_b$|_new$|_old$", p.stem)]
    history = re.compile(r"(?<!vision )\b[Ii]ssue \d+\b")  # pytorch/vision issue 906 is a citation
    assert not [str(p.relative_to(ROOT)) for p in tracked if history.search(p.read_text())]
