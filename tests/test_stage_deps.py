"""dvc.yaml names exactly the library files each stage script imports, directly or not.

A library file a stage uses but dvc.yaml leaves out would not rerun the stage when it
changes; one listed but unused reruns it for nothing.
"""

import ast
import sys
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[1]
LIBRARY = PROJECT / "src"
PACKAGE = "ctc_asr"
STAGES = yaml.safe_load((PROJECT / "dvc.yaml").read_text())["stages"]


def module_file(name: str) -> Path | None:
    """The file of a dotted ctc_asr module or package, None outside the library."""
    if name.split(".")[0] != PACKAGE:
        return None
    base = LIBRARY.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(path: Path, package: str) -> set[str]:
    """Dotted names of every module `path` imports (at any depth in the file), relative ones resolved."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}  # `from pkg import module`
    return names


def with_parents(name: str) -> list[str]:
    # importing a.b.c runs a/__init__.py and a/b/__init__.py first
    parts = name.split(".")
    return [".".join(parts[:k]) for k in range(1, len(parts) + 1)]


def library_files(script: Path) -> set[Path]:
    """Every library file `script` runs through its imports, transitively."""
    seen: set[Path] = set()
    todo = [(script, "")]
    while todo:
        path, package = todo.pop()
        for name in imported_modules(path, package):
            for module in with_parents(name):
                found = module_file(module)
                if found and found not in seen:
                    seen.add(found)
                    is_package = found.name == "__init__.py"
                    todo.append((found, module if is_package else module.rpartition(".")[0]))
    return seen


def listed_library_files(deps: list[str]) -> set[Path]:
    """The .py files a stage's deps name under src/, folders expanded."""
    files = set()
    for dep in deps:
        path = PROJECT / dep
        if LIBRARY in path.parents:
            files |= set(path.rglob("*.py")) if path.is_dir() else {path}
    return files


def relative(paths: set[Path]) -> list[str]:
    return sorted(str(p.relative_to(PROJECT)) for p in paths)


def test_the_package_root_imports_only_the_standard_library():
    # it is left out of every stage's deps (a version bump, OpenMP's wait policy: neither changes a
    # result): keep it that way
    imported = imported_modules(LIBRARY / PACKAGE / "__init__.py", PACKAGE)
    assert {name for name in imported if name.split(".")[0] not in sys.stdlib_module_names} == set()


@pytest.mark.parametrize("stage", list(STAGES))
def test_stage_deps_are_the_library_files_its_script_imports(stage):
    deps = STAGES[stage]["deps"]
    [script] = [d for d in deps if d.startswith("stages/")]
    assert STAGES[stage]["cmd"].endswith(script)
    used = library_files(PROJECT / script) - {LIBRARY / PACKAGE / "__init__.py"}
    listed = listed_library_files(deps)
    assert relative(used - listed) == [], f"{stage}: imported but not in dvc.yaml's deps"
    assert relative(listed - used) == [], f"{stage}: in dvc.yaml's deps but not imported"


def test_the_import_walk_follows_relative_and_nested_imports():
    # guards the test above: the walk must reach modules only other library modules import
    files = relative(library_files(PROJECT / "stages/download.py"))
    assert "src/ctc_asr/data/sources/espeak.py" in files  # from .espeak import Espeak, inside sources/
    assert "src/ctc_asr/core/errors.py" in files           # from ..errors import UserError
    assert "src/ctc_asr/data/sources/__init__.py" in files
