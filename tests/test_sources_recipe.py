"""Every data source has the parts docs/code.md says a new source needs, so that recipe stays true."""

import typing
from pathlib import Path

import pytest
import yaml

from ctc_asr.core.params import REQUIRED, DataParams, Section
from ctc_asr.data import sources

PROJECT = Path(__file__).resolve().parents[1]
NAMES = typing.get_args(DataParams.model_fields["source"].annotation)
PARAMS = yaml.safe_load((PROJECT / "params.yaml").read_text())


@pytest.mark.parametrize("name", NAMES)
def test_a_source_has_its_module_params_section_tests_and_docs(name):
    assert (PROJECT / "src/ctc_asr/data/sources" / f"{name}.py").is_file()
    section = DataParams.model_fields[name].annotation
    assert issubclass(section, Section), "its params section is a model of core/params.py"
    assert name in PARAMS["data"], "params.yaml has its data.<name> section"
    assert list((PROJECT / "tests").glob(f"test_{name}*.py")), "it has tests of its own"
    assert f"`{name}`" in (PROJECT / "docs/data.md").read_text(), "docs/data.md names it"


@pytest.mark.parametrize("name", [n for n in NAMES if n != "synthetic"])  # synthetic writes its own audio
def test_a_corpus_source_is_listed_and_names_its_required_key(name):
    assert name in sources.LISTED
    assert name in REQUIRED
