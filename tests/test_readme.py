"""The README's layout block names every part of the tree, and nothing that is not there."""

import itertools
import re
import subprocess
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
LIBRARY = PROJECT / "src" / "ctc_asr"


def layout() -> str:
    readme = (PROJECT / "README.md").read_text()
    return re.search(r"## Layout\n\n```\n(.*?)```", readme, re.S).group(1)


def tracked() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=PROJECT,
                            capture_output=True, text=True, check=True).stdout.split()
    return [name for name in listed if (PROJECT / name).exists()]


def library_lines() -> str:
    """The indented lines under src/ctc_asr/ in the layout, the first line's tail included."""
    match = re.search(r"^(src/ctc_asr/.*?\n)((?:  .*\n)+)", layout(), re.M)
    return match.group(1) + match.group(2)


def named_modules() -> set[str]:
    """Every module the layout names, as a path under src/ctc_asr/ (a folder line opens a folder)."""
    named, folder = set(), ""
    for line in library_lines().splitlines():
        depth = (len(line) - len(line.lstrip())) // 2
        opened = re.match(r"\s*(\w+)/\s", line)
        if depth == 1 and opened:
            folder = opened.group(1) + "/"
        prefix = folder if depth == 2 else ""
        named |= {prefix + name for name in re.findall(r"\b(\w+\.py)\b", line)}
    return named


def test_every_library_module_is_named():
    named = named_modules()
    modules = {str(p.relative_to(LIBRARY)) for p in LIBRARY.rglob("*.py")
               if p.name not in {"__init__.py", "__main__.py"} and "sources" not in p.parts}
    assert sorted(modules - named) == [], "modules the layout does not name"
    assert sorted(named - modules) == [], "names in the layout that are not modules (or in the wrong folder)"


def test_every_top_level_part_is_named_and_exists():
    block = layout()
    tops = {name.split("/")[0] + ("/" if "/" in name else "") for name in tracked()}
    named = set(re.findall(r"(?:^|\s)([\w.]+/?)(?=\s)", block.split("\n", 1)[0] + " ")) | set(
        re.findall(r"^([\w.]+/)", block, re.M))
    ignored = {".gitignore", ".dvcignore", ".dvc/", "dvc.lock", ".ci/"}  # tool files a reader need not know
    assert sorted(tops - named - ignored) == [], "top-level parts the layout does not name"
    assert sorted(n for n in named if not (PROJECT / n).exists()) == [], "named in the layout but missing"
    assert (PROJECT / ".ci/run").is_file()


def test_every_source_module_is_named():
    sources = {p.stem for p in (LIBRARY / "data" / "sources").glob("*.py")} - {"__init__", "espeak"}
    lines = library_lines().splitlines()
    first = next(k for k, line in enumerate(lines) if line.strip().startswith("sources/"))
    indent = len(lines[first]) - len(lines[first].lstrip()) + len("sources/")
    said = [lines[first], *itertools.takewhile(lambda line: len(line) - len(line.lstrip()) > indent, lines[first + 1:])]
    assert sorted(s for s in sources if s not in " ".join(said)) == []
