"""Presets: small params files that override params.yaml, merged into it with its comments kept."""

from io import StringIO
from pathlib import Path

from ruamel.yaml import YAML

from ctc_asr.core import params
from ctc_asr.core.errors import UserError

# Mappings of Wav2Vec2Config fields: any field may be added (they are checked when the model is built).
OPEN = ("model.scratch.", "model.config.")


def _merge(base: dict, update: dict, where: str = "") -> None:
    for key, value in update.items():
        name = f"{where}{key}"
        if key not in base and where not in OPEN:
            raise UserError(f"{name}: not a key of params.yaml (a preset only overrides existing keys)")
        if isinstance(value, dict) and isinstance(base[key], dict) and value:
            _merge(base[key], value, f"{name}.")
        else:
            base[key] = value


def _keys(tree: dict, where: str = "") -> list[str]:
    keys = []
    for key, value in tree.items():
        keys += _keys(value, f"{where}{key}.") if isinstance(value, dict) and value else [f"{where}{key}"]
    return keys


def _merged(preset: Path, params_file: Path, overrides: dict | None) -> tuple[str, list[str]]:
    """params.yaml's text with the preset and `overrides` merged in, and the dotted keys they set."""
    # round-trip mode: comments and key order of params.yaml survive; nulls written as `dvc exp run -S` writes
    # them (nothing after the colon), so that a later variant's diff is its own lines
    yaml = YAML()
    yaml.width = 4096  # no re-wrapping of long lines
    for path in (preset, params_file):
        if not Path(path).is_file():
            raise UserError(f"{path}: no such params file")
    base, update = yaml.load(Path(params_file)), yaml.load(Path(preset)) or {}
    _merge(base, update)
    _merge(base, overrides or {})
    text = StringIO()
    yaml.dump(base, text)
    return text.getvalue(), list(dict.fromkeys(_keys(update) + _keys(overrides or {})))


def _validated(text: str, preset: Path, params_file: Path) -> params.Params:
    return params.parse(YAML(typ="safe").load(text), f"{params_file} with {preset}")


def load(preset: Path, params_file: Path = Path("params.yaml"), overrides: dict | None = None) -> params.Params:
    """The params a run would get after `apply`, without writing anything."""
    return _validated(_merged(preset, params_file, overrides)[0], preset, params_file)


def apply(preset: Path, params_file: Path = Path("params.yaml"), overrides: dict | None = None) -> list[str]:
    """Merge `preset`, then `overrides`, into `params_file` (validated first, written only if valid);
    the dotted keys they set."""
    text, keys = _merged(preset, params_file, overrides)
    _validated(text, preset, params_file)
    Path(params_file).write_text(text)
    return keys
