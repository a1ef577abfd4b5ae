"""The direction of imports between the project's packages and the portal's tiers.

Read from the source with ``ast`` (nothing is imported), so a wrong import fails here with
its file and line, not at call time somewhere else:

- ``exporters`` imports nothing of ours (it receives arrays and returns bytes);
- ``cameras`` never imports ``portal``;
- in ``portal``: entry points (urls, admin, apps, celery, management commands, template tags)
  may import anything; ``tasks`` imports services, models and lib; views import services,
  forms, models and lib; forms import services, models and lib; services import other
  services, models and lib; models import lib; lib imports nothing of the portal. The one
  upward import is ``services.queue`` -> ``tasks``;
- no import loops between modules (module-level imports);
- our own modules are imported at the top of a module. An import inside a function is
  allowed only to break a genuine loop, with a comment saying so (the word "loop" on the
  line or just above it).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("portal", "cameras", "exporters")

# What each portal tier may import from the portal (prefixes of module names).
ENTRY_POINTS = ("portal.urls", "portal.admin", "portal.apps", "portal.celery", "portal.wsgi", "portal.settings",
                "portal.gunicorn_conf", "portal.management", "portal.templatetags", "portal")
TIERS = {
    "portal.tasks": ("portal.services", "portal.models", "portal.lib"),
    "portal.views": ("portal.views.common", "portal.services", "portal.forms", "portal.models", "portal.lib"),
    "portal.forms": ("portal.services", "portal.models", "portal.lib"),
    "portal.services": ("portal.services", "portal.models", "portal.lib"),
    "portal.models": ("portal.lib",),
    "portal.lib": ("portal.lib",),
}
UPWARD_EXCEPTIONS = {("portal.services.queue", "portal.tasks")}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def imports(path: Path):
    """(imported module, line, inside a function, has a loop comment) for each import of ours."""
    module = module_name(path)
    is_package = path.name == "__init__.py"
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    tree = ast.parse(text)
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node

    def in_function(node) -> bool:
        while node in parents:
            node = parents[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                return True
        return False

    def in_type_checking(node) -> bool:
        while node in parents:
            node = parents[node]
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                return True
        return False

    def loop_comment(lineno: int) -> bool:
        nearby = lines[max(0, lineno - 3):lineno]
        return any("#" in line and "loop" in line.split("#", 1)[1].lower() for line in nearby)

    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # "from portal.services import emails" imports the module portal.services.emails
            names = []
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                where = ROOT / Path(*candidate.split("."))
                is_module = where.with_suffix(".py").exists() or (where / "__init__.py").exists()
                names.append(candidate if is_module else target)
        for name in names:
            if name.split(".")[0] in PACKAGES and not in_type_checking(node):
                yield name, node.lineno, in_function(node), loop_comment(node.lineno)


GRAPH = {module_name(p): list(imports(p)) for p in source_files()}


def test_exporters_import_nothing_of_ours():
    wrong = [f"{m} imports {name} (line {line})" for m, edges in GRAPH.items() if m.startswith("exporters")
             for name, line, _, _ in edges if not name.startswith("exporters")]
    assert not wrong, "exporters must stay free of Django and the database:\n" + "\n".join(wrong)


def test_cameras_never_import_portal():
    wrong = [f"{m} imports {name} (line {line})" for m, edges in GRAPH.items() if m.startswith("cameras")
             for name, line, _, _ in edges if name.startswith("portal")]
    assert not wrong, "cameras must not know the shop:\n" + "\n".join(wrong)


def tier_of(module: str) -> str | None:
    for tier in sorted(TIERS, key=len, reverse=True):
        if module == tier or module.startswith(tier + "."):
            return tier
    return None


def test_portal_tiers_import_only_lower_tiers():
    wrong = []
    for module, edges in GRAPH.items():
        tier = tier_of(module)
        if tier is None:
            continue  # an entry point, or not the portal
        for name, line, _, _ in edges:
            if not name.startswith("portal") or (module, name) in UPWARD_EXCEPTIONS:
                continue
            if not any(name == allowed or name.startswith(allowed + ".") for allowed in TIERS[tier]):
                wrong.append(f"{module} (line {line}) imports {name}: {tier} may import only {', '.join(TIERS[tier])}")
    assert not wrong, "\n".join(wrong)


def test_there_are_no_import_loops():
    graph = {m: sorted({n for n, _, inside, _ in edges if not inside and n in GRAPH and n != m})
             for m, edges in GRAPH.items()}
    loops, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == "open":
                loops.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    # a package importing its own submodules is how Python packages work, not a loop
    loops = [loop for loop in loops if not all(part.startswith(loop.split(" -> ")[0]) for part in loop.split(" -> "))]
    assert not loops, "import loops:\n" + "\n".join(loops)


def test_our_modules_are_imported_at_the_top():
    wrong = [f"{m} line {line}: imports {name} inside a function" for m, edges in GRAPH.items()
             for name, line, inside, commented in edges if inside and not commented]
    assert not wrong, ("import our own modules at the top of the module; inside a function only to break a "
                       "genuine loop, with a comment saying so:\n" + "\n".join(wrong))


@pytest.mark.parametrize("pattern", [r"shared/formats", r"\.\./shared", r"/work/", r"[Ii]ssue #?\d+"])
def test_code_cites_no_issue_number_and_no_path_outside_the_repository(pattern):
    wrong = [f"{p.relative_to(ROOT)}:{i}: {line.strip()}" for p in source_files()
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if re.search(pattern, line)]
    assert not wrong, "say what the code does; cite docs/ in the repository:\n" + "\n".join(wrong)
