"""The layout keeps its design: layers that import one way (LAYERS, and no cycles), no module reaching for
another's private names, an instant CLI (no torch, Lightning, matplotlib or Optuna to build the parser or
print a usage error), no model-kind checks outside models/, and a test module for every source module."""
from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "latentspace"
TESTS = Path(__file__).resolve().parent
HEAVY = ("torch", "lightning", "matplotlib", "optuna")

# The package's layers, bottom to top (the one declaration of the order; README's "Layout" paragraph names them
# in the same order): a module imports only from its own layer or those below it. Entries are the top-level
# modules and packages of src/latentspace ("latentspace" is the package's own __init__).
LAYERS = [
    ("latentspace", "errors", "io", "config"),  # the plumbing
    ("data",),
    ("models",),
    ("runs",),
    ("analysis",),
    ("samplers",),
    ("figures", "report"),
    ("training",),
    ("commands",),
    ("explorer",),
    ("cli", "api", "datasets"),
]


def modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = ("latentspace", *path.relative_to(SRC).with_suffix("").parts)
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """Every latentspace module `path` imports, at module level or inside functions (a lazy import is still a
    dependency), outside `if TYPE_CHECKING:` blocks."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test)
            for n in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:  # a name inside a module: the module
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def _top(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_every_module_imports_only_from_its_own_layer_or_below():
    level = {name: i for i, layer in enumerate(LAYERS) for name in layer}
    mods = modules()
    unplaced = sorted({_top(m) for m in mods} - set(level))
    assert not unplaced, f"modules in no layer (add them to LAYERS and the README's Layout): {unplaced}"
    upward = [f"{name} -> {target}" for name, path in sorted(mods.items())
              for target in sorted(imports_of(path, name, set(mods)))
              if level[_top(target)] > level[_top(name)]]
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)


def test_the_readme_names_the_layers_in_their_order():
    readme = (SRC.parents[1] / "README.md").read_text()
    paragraph = readme.split("### Layout", 1)[1].split("\n\n", 1)[0]
    top = {_top(m) for m in modules()}
    named = [m.group(1) for m in re.finditer(r"`([a-z_]+)(?:/|\.py)`", paragraph) if m.group(1) in top]
    declared = [name for layer in LAYERS for name in layer if name != "latentspace"]
    assert list(dict.fromkeys(named)) == declared


def test_no_module_imports_another_modules_private_names():
    """What one module shares with another has a public name (and a home at the right layer)."""
    problems = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and ((node.module or "").startswith("latentspace") or node.level):
                problems += [f"{path.relative_to(SRC)}:{node.lineno}: {node.module}.{a.name}" for a in node.names
                             if a.name.startswith("_") and not a.name.startswith("__")]
    assert not problems, "private names imported:\n" + "\n".join(problems)


def test_the_package_has_no_import_cycles():
    mods = modules()
    graph = {name: imports_of(path, name, set(mods)) for name, path in mods.items()}
    state, stack, cycles = {}, [], []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("argv", [
    ["--help"], ["train", "--help"], ["train", "ae", "--help"], ["train", "gan", "--help"], ["search", "ae", "--help"],
    ["study", "--help"], ["evaluate", "--help"], ["classify", "--help"], ["beta-sweep", "--help"],
    ["train", "transformer"], ["train", "ae", "--epochs", "ten"], ["train", "ae", "--latent-dim", "0"],
    ["train", "vae", "--beta", "-1"], ["embed"], ["generate", "RUN", "--mode", "walk"], ["study", "--preset", "huge"],
])
def test_the_cli_answers_help_and_usage_errors_without_heavy_imports(argv):
    code = ("import json, sys\nfrom latentspace.cli import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout.strip().splitlines()[-1]) == [], f"{argv} imported heavy modules"


def test_configs_and_the_registry_import_without_torch():
    code = ("import json, sys\nimport latentspace, latentspace.models, latentspace.training.config, "
            "latentspace.commands.options, latentspace.commands.study.presets, latentspace.models.probe_config\n"
            "from latentspace.models import MODELS\n"
            "[s.config_cls() for s in MODELS.values()]\n"
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == []


KINDS = {"ae", "vae", "gan"}
MODEL_CLASSES = {"Autoencoder", "VAE", "GAN"}


def test_nothing_outside_models_tests_a_kind_or_class_or_probes_a_capability():
    """Code outside models/ reads a model's spec: it never compares a kind string, never tests a model's class,
    and never asks hasattr/getattr of a model (nor catches the error of calling what it cannot do)."""
    problems = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if rel.parts[0] == "models":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            where = f"{rel}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Compare):
                consts = [c.value for c in [node.left, *node.comparators] if isinstance(c, ast.Constant)]
                if KINDS & {c for c in consts if isinstance(c, str)}:
                    problems.append(f"{where}: compares with a model kind")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                args = [ast.unparse(a) for a in node.args]
                if node.func.id == "isinstance" and any(n in args[1] for n in MODEL_CLASSES | {"Encoder"}):
                    problems.append(f"{where}: tests a model's class")
                if node.func.id in ("hasattr", "getattr") and args and "model" in args[0]:
                    problems.append(f"{where}: probes a model with {node.func.id}")
            if isinstance(node, ast.ExceptHandler) and node.type is not None and "NotImplementedError" in \
                    ast.unparse(node.type):
                problems.append(f"{where}: catches NotImplementedError (a capability probe)")
    assert not problems, "\n".join(problems)


def _has_code(path: Path) -> bool:
    body = ast.parse(path.read_text()).body
    return any(not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)) for n in body)


def test_every_module_has_a_test_module_of_its_own():
    """tests/ mirrors src/: a/b/c.py is tested in tests/b/test_c.py; a package's __init__ with code in
    tests/<package>/test_<package>.py (the top package's in tests/test_latentspace.py)."""
    missing = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if path.name == "__init__.py":
            if not _has_code(path):
                continue
            name = rel.parent.name or "latentspace"
            expected = TESTS.joinpath(*rel.parent.parts, f"test_{name}.py")
        else:
            expected = TESTS.joinpath(*rel.parent.parts, f"test_{path.stem}.py")
        if not expected.is_file():
            missing.append(f"{rel} -> {expected.relative_to(TESTS.parent)}")
    assert not missing, "modules without a test module:\n" + "\n".join(sorted(missing))
