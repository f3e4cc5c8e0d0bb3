"""dvc.yaml's params name the keys each stage reads, less the runtime-only knobs (params.RUNTIME_ONLY).

A key a stage reads but does not declare would not rerun it when it changes; a key declared but never
read, or a runtime-only knob declared, reruns it for nothing. What a stage can read is found in its
code: `params.load()` followed through the stage script and every library function it hands params
(or a section of them) to. A section handed to anything else (a method, a class, a dump) counts as
read whole; the keys come from the params models (pydantic), so a key added to a section a stage reads
must be declared or listed as runtime-only.
"""

import ast
import textwrap
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from ctc_asr.core import params

PROJECT = Path(__file__).resolve().parents[1]
LIBRARY = PROJECT / "src"
STAGES = yaml.safe_load((PROJECT / "dvc.yaml").read_text())["stages"]
LOADERS = {("ctc_asr.core.params", "load"), ("ctc_asr.core.params", "parse")}  # what gives the whole Params

Path_ = tuple[str, ...]  # a params key, split at its dots


def section_model(key: Path_) -> type[BaseModel] | None:
    """The params model at `key`, None for a leaf (a value, a list, a mapping like model.scratch)."""
    model = params.Params
    for name in key:
        annotation = model.model_fields[name].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def leaves(key: Path_ = ()) -> set[str]:
    """Every leaf key at or under `key`, dotted."""
    model = section_model(key)
    if model is None:
        return {".".join(key)}
    return set().union(*(leaves((*key, name)) for name in model.model_fields))


def exists(dotted: str) -> bool:
    model = params.Params
    for name in dotted.split("."):
        if model is None or name not in model.model_fields:
            return False
        annotation = model.model_fields[name].annotation
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return True


class Module:
    """A parsed module: its top-level functions and classes and what its imported names refer to."""

    def __init__(self, name: str, path: Path):
        self.name, self.path = name, path
        self.tree = ast.parse(path.read_text())
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        self.defs = {n.name: n for n in self.tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
        self.classes = {n.name for n in self.tree.body if isinstance(n, ast.ClassDef)}
        self.imports: dict[str, tuple[str, str | None]] = {}  # local name -> (module, name in it or None)
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.imports[alias.asname] = (alias.name, None)
                    else:
                        top = alias.name.split(".")[0]
                        self.imports[top] = (top, None)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = (base, alias.name)


class Library:
    """The modules of `root` (a folder holding the ctc_asr package), parsed once each."""

    def __init__(self, root: Path, package: str = "ctc_asr"):
        self.root, self.package, self.modules = root, package, {}

    def file(self, name: str) -> Path | None:
        if name.split(".")[0] != self.package:
            return None
        base = self.root.joinpath(*name.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    def module(self, name: str, path: Path | None = None) -> Module | None:
        if name not in self.modules:
            path = path or self.file(name)
            self.modules[name] = Module(name, path) if path else None
        return self.modules[name]

    def lookup(self, module: Module, name: str, seen: frozenset = frozenset()):
        """What `name` is in `module`: ("module", Module), ("function", Module, def), ("other",) or None."""
        if (module.name, name) in seen:
            return None
        seen |= {(module.name, name)}
        if name in module.defs:
            return ("function", module, module.defs[name])
        if name in module.classes:
            return ("other",)
        if name not in module.imports:
            return None
        source, attribute = module.imports[name]
        if attribute is None or self.file(f"{source}.{attribute}"):
            target = self.module(source if attribute is None else f"{source}.{attribute}")
            return ("module", target) if target else None
        origin = self.module(source)
        return self.lookup(origin, attribute, seen) if origin else None

    def resolve(self, module: Module, node: ast.expr):
        if isinstance(node, ast.Name):
            return self.lookup(module, node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(module, node.value)
            if base and base[0] == "module":
                return self.lookup(base[1], node.attr)
        return None


class Reads:
    """The params keys code can read, starting from a script."""

    def __init__(self, library: Library):
        self.library, self.keys, self.done = library, set(), set()

    def whole(self, key: Path_) -> None:
        self.keys |= leaves(key)

    def script(self, path: Path) -> set[str]:
        module = self.library.module(f"__script__.{path.stem}", path)
        for function in module.defs.values():
            self.function(module, function, {})
        definitions = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
        Scope(self, module, {}).statements([n for n in module.tree.body if not isinstance(n, definitions)])
        return self.keys

    def function(self, module: Module, function: ast.FunctionDef, bindings: dict[str, Path_]) -> None:
        done = (module.name, function.name, tuple(sorted(bindings.items())))
        if done in self.done:
            return
        self.done.add(done)
        Scope(self, module, dict(bindings)).statements(function.body)


def literal(node: ast.expr) -> list[str] | None:
    """The strings of a literal tuple or list of strings, else None."""
    if isinstance(node, ast.Tuple | ast.List) and all(isinstance(e, ast.Constant) and isinstance(e.value, str)
                                                      for e in node.elts):
        return [e.value for e in node.elts]
    return None


class Scope:
    """One function body: names bound to params keys, and the literal strings a loop variable takes."""

    def __init__(self, reads: Reads, module: Module, names: dict[str, Path_]):
        self.reads, self.module, self.names = reads, module, names
        self.literals: dict[str, list[str]] = {}

    def statements(self, body: list[ast.stmt]) -> None:
        for statement in body:
            self.visit(statement)

    def getattr_base(self, node: ast.AST) -> Path_ | None:
        """The key of X in getattr(X, name), where X is params or a section of them."""
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
                and len(node.args) >= 2):
            return self.key(node.args[0])
        return None

    def key(self, node: ast.expr) -> Path_ | None:
        """The params key `node` evaluates to, or None; a section used through anything but a field is read whole."""
        if isinstance(node, ast.Name):
            return self.names.get(node.id)
        if isinstance(node, ast.Call):
            found = self.reads.library.resolve(self.module, node.func)
            if found and found[0] == "function" and (found[1].name, found[2].name) in LOADERS:
                return ()
            base = self.getattr_base(node)
            if base is not None:
                name = node.args[1]
                if isinstance(name, ast.Constant) and isinstance(name.value, str):
                    return self.field(base, name.value)
                for value in self.literals.get(name.id, []) if isinstance(name, ast.Name) else []:
                    self.reads.whole((*base, value))
                if not (isinstance(name, ast.Name) and name.id in self.literals):
                    self.reads.whole(base)
            return None
        if isinstance(node, ast.Attribute):
            base = self.key(node.value)
            return None if base is None else self.field(base, node.attr)
        return None

    def field(self, base: Path_, name: str) -> Path_ | None:
        model = section_model(base)
        if model is not None and name in model.model_fields:
            return (*base, name)
        self.reads.whole(base)  # a method (model_dump, replace) or an attribute of a value
        return None

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.expr):
            key = self.key(node)
            if key is not None:
                self.reads.whole(key)
                return
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if self.bind(targets, node.value):
                return
        if isinstance(node, ast.For | ast.comprehension) and isinstance(node.target, ast.Name) and literal(node.iter):
            self.literals[node.target.id] = literal(node.iter)
        if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            for generator in node.generators:  # first: they bind the names the element uses
                self.visit(generator)
            for part in (node.key, node.value) if isinstance(node, ast.DictComp) else (node.elt,):
                self.visit(part)
            return
        if isinstance(node, ast.Call):
            if self.getattr_base(node) is None:  # getattr(params, name): read by `key` above
                self.call(node)
            return
        for child in ast.iter_child_nodes(node):
            self.visit(child)

    def bind(self, targets: list[ast.expr], value: ast.expr) -> bool:
        """Name = section (or a tuple of them): remembered, not read yet."""
        if len(targets) != 1:
            return False
        [target] = targets
        if isinstance(target, ast.Name):
            key = self.key(value)
            if key is None:
                self.names.pop(target.id, None)
                return False
            self.names[target.id] = key
            return True
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
            for one, other in zip(target.elts, value.elts):
                if not self.bind([one], other):
                    self.visit(other)
            return True
        return False

    def call(self, node: ast.Call) -> None:
        """Params handed to a library function are followed into it; to anything else, read whole."""
        self.visit(node.func)
        found = self.reads.library.resolve(self.module, node.func)
        function = found[2] if found and found[0] == "function" else None
        bindings: dict[str, Path_] = {}
        arguments = function.args if function else None
        positional = [*arguments.posonlyargs, *arguments.args] if arguments else []
        named = {a.arg for a in positional + (arguments.kwonlyargs if arguments else [])}
        starred = False
        for index, arg in enumerate(node.args):
            starred |= isinstance(arg, ast.Starred)
            key = self.key(arg)
            if key is None:
                self.visit(arg)
            elif function and not starred and index < len(positional) and section_model(key) is not None:
                bindings[positional[index].arg] = key
            else:
                self.reads.whole(key)
        for keyword in node.keywords:
            key = self.key(keyword.value)
            if key is None:
                self.visit(keyword.value)
            elif function and keyword.arg in named and section_model(key) is not None:
                bindings[keyword.arg] = key
            else:
                self.reads.whole(key)
        if function:
            self.reads.function(found[1], function, bindings)


def stage_reads(stage: str, library: Library | None = None) -> set[str]:
    [script] = [d for d in STAGES[stage]["deps"] if d.startswith("stages/")]
    return Reads(library or Library(LIBRARY)).script(PROJECT / script)


def covered(key: str, declared: list[str]) -> bool:
    return any(key == d or key.startswith(f"{d}.") for d in declared)


def test_runtime_only_keys_are_params_keys_that_a_stage_reads():
    assert all(exists(key) for key in params.RUNTIME_ONLY), sorted(k for k in params.RUNTIME_ONLY if not exists(k))
    read = set().union(*(stage_reads(stage) for stage in STAGES))
    assert sorted(params.RUNTIME_ONLY - read) == []  # a knob no stage reads is no runtime-only knob: remove it


@pytest.mark.parametrize("stage", list(STAGES))
def test_a_stage_declares_every_key_it_reads_but_the_runtime_only_ones(stage):
    declared = [str(key) for key in STAGES[stage].get("params", [])]
    assert [key for key in declared if not exists(key)] == [], f"{stage}: declares keys params.yaml has not"
    reads = stage_reads(stage)
    missing = sorted(key for key in reads - params.RUNTIME_ONLY if not covered(key, declared))
    assert missing == [], f"{stage}: reads these keys, which dvc.yaml does not declare (nor params.RUNTIME_ONLY)"
    runtime = sorted(key for key in params.RUNTIME_ONLY if covered(key, declared))
    assert runtime == [], f"{stage}: declares runtime-only keys (or a section holding them): changing one would rerun it"
    unread = [d for d in declared if not any(covered(key, [d]) for key in reads)]
    assert unread == [], f"{stage}: declares keys its code never reads"


# The walk itself, on a made-up stage and library: each way of reaching a key is found, and no more.
FAKE_LIBRARY = {
    "ctc_asr/__init__.py": "",
    "ctc_asr/core/__init__.py": "",
    "ctc_asr/core/params.py": "def load(path='params.yaml'):\n    ...\n",
    "ctc_asr/use.py": """
        from .again import passed_on

        def card(data, license):
            return data.hub.name, license, passed_on(data.timit)

        def dumped(section):
            return section.model_dump()

        def untouched(cfg):
            return 1
        """,
    "ctc_asr/again.py": """
        def passed_on(timit):
            return timit.test_set
        """,
}
FAKE_STAGE = """
    import sys
    from ctc_asr.core import params
    from ctc_asr import use
    from ctc_asr.use import dumped

    def helper(cfg):
        return {name: getattr(cfg, name).model_dump() for name in ("filter", "ngram")}

    def main():
        cfg, follow = params.load(), "--follow" in sys.argv
        train = cfg.train
        use.card(cfg.data, license=cfg.evaluate.license)
        dumped(cfg.normalize)
        use.untouched(cfg)
        print(train.seed, getattr(cfg.decode, "beam_width"), cfg.model.scratch, helper(cfg))
        unknown(cfg.encode)
        cfg.target.upper()
    """


def test_the_walk_finds_each_way_a_key_is_read(tmp_path):
    for name, text in FAKE_LIBRARY.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text))
    (tmp_path / "stage.py").write_text(textwrap.dedent(FAKE_STAGE))
    reads = Reads(Library(tmp_path)).script(tmp_path / "stage.py")
    expected = ({"data.hub.name", "data.timit.test_set", "evaluate.license", "train.seed", "decode.beam_width",
                 "model.scratch", "target"}
                | leaves(("filter",)) | leaves(("ngram",)) | leaves(("normalize",)) | leaves(("encode",)))
    assert reads == expected
