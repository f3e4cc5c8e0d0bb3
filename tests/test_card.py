"""The model card: hub metadata huggingface_hub parses back, and a body with the facts."""

import itertools
from pathlib import Path

from huggingface_hub import ModelCard

from ctc_asr.core import params
from ctc_asr.evaluation import card

DATA = params.load(Path(__file__).resolve().parents[1] / "params.yaml").data  # the defaults, changed per test
TEST = {"ngram": {"wer": 0.21, "cer": 0.07}, "greedy": {"wer": 0.3, "cer": 0.09}}


def written(tmp_path, data, lm=None, test=TEST, headline="wer", language=None) -> ModelCard:
    metadata = card.card_data(data, "facebook/wav2vec2-base", "apache-2.0", test, card.language_of(data, language))
    corpus = {"source": data.source, "train utterances": 3696, "train hours": 3.14, "sample rate": 16000}
    text = card.model_card(metadata, "models/asr", corpus,
                           {"test WER, ngram": 0.21}, headline, lm, {"train": {"learning_rate": 0.0001}})
    (tmp_path / "README.md").write_text(text)
    return ModelCard.load(tmp_path / "README.md")


def test_a_hub_dataset_is_named_by_id_config_revision_and_split(tmp_path):
    hub = DATA.hub.replace(name="openslr/librispeech_asr", config="clean", revision="abc123", test_split="test")
    loaded = written(tmp_path, DATA.replace(source="hub", hub=hub))
    results = loaded.data.eval_results
    assert {(r.metric_type, r.metric_name, r.metric_value) for r in results} == {
        ("wer", "Test WER (n-gram LM)", 0.21), ("cer", "Test CER (n-gram LM)", 0.07),
        ("wer", "Test WER (greedy)", 0.3), ("cer", "Test CER (greedy)", 0.09)}
    assert {(r.dataset_type, r.dataset_config, r.dataset_revision, r.dataset_split) for r in results} == {
        ("openslr/librispeech_asr", "clean", "abc123", "test")}
    assert loaded.data.datasets == ["openslr/librispeech_asr"] and loaded.data.base_model == "facebook/wav2vec2-base"
    assert loaded.data.license == "apache-2.0" and loaded.data.pipeline_tag == "automatic-speech-recognition"


def test_timit_names_its_test_set_and_the_body_has_the_facts(tmp_path):
    data = DATA.replace(source="timit", timit=DATA.timit.replace(root="/corpora/TIMIT", test_set="core"))
    loaded = written(tmp_path, data, lm={"order": 4, "alpha (LM weight)": 0.3})
    assert {r.dataset_split for r in loaded.data.eval_results} == {"test (core)"}
    assert loaded.data.datasets == ["timit-asr/timit_asr"]
    body = loaded.text
    assert "| train utterances | 3696 |" in body and "| test WER, ngram | 0.21 |" in body
    assert "## Language model" in body and "| alpha (LM weight) | 0.3 |" in body and "learning_rate: 0.0001" in body
    assert f'pipeline("automatic-speech-recognition", model="{card.HUB_ID}")' in body and "(`models/asr`)" in body
    assert "needs pyctcdecode" in body  # the LM decoder's packages


def test_without_an_lm_the_card_says_greedy(tmp_path):
    loaded = written(tmp_path, DATA)
    assert "## Language model" not in loaded.text and "greedy CTC decoding" in loaded.text


def test_the_language_is_the_params_one_or_english_for_the_english_corpora(tmp_path):
    assert written(tmp_path, DATA).data.language == "en"  # synthetic: eSpeak's English voices
    assert "# wav2vec2 CTC speech recogniser (English, characters)" in written(tmp_path, DATA).text
    manifest = DATA.replace(source="manifest", manifest=DATA.manifest.replace(path="corpus.csv"))
    assert written(tmp_path, manifest).data.language is None  # your recordings: unnamed unless normalize.language
    turkish = written(tmp_path, manifest, language="tr")
    assert turkish.data.language == "tr" and "# wav2vec2 CTC speech recogniser (tr, characters)" in turkish.text


def test_a_cer_headline_comes_first_and_the_card_says_why(tmp_path):
    test = {"greedy": {"cer": 0.3, "wer": 1.0}}
    loaded = written(tmp_path, DATA, test=test, headline="cer")
    assert loaded.data.metrics == ["cer", "wer"] and loaded.data.eval_results[0].metric_type == "cer"
    assert "CER is the headline rate" in loaded.text
    assert "CER is the headline rate" not in written(tmp_path, DATA).text


def test_every_source_names_its_dataset_and_librispeech_its_test_subset(tmp_path):
    for source in set(params.DataParams.model_fields["source"].annotation.__args__) - {"hub"}:  # hub: data.hub.name
        assert card.dataset_of(DATA.model_copy(update={"source": source}))["dataset_type"]  # no KeyError
    librispeech = DATA.replace(source="librispeech", librispeech=DATA.librispeech.replace(root="/x", test_subset="test-other"))
    loaded = written(tmp_path, librispeech)
    assert {r.dataset_split for r in loaded.data.eval_results} == {"test-other"} and loaded.data.language == "en"


def test_only_hub_ids_are_named_as_datasets(tmp_path):
    assert written(tmp_path, DATA).data.datasets is None  # the built-in corpus: no Hub dataset
    manifest = DATA.replace(source="manifest", manifest=DATA.manifest.replace(path="corpus.csv"))
    assert written(tmp_path, manifest).data.datasets is None
    librispeech = DATA.replace(source="librispeech", librispeech=DATA.librispeech.replace(root="/x"))
    assert written(tmp_path, librispeech).data.datasets == ["openslr/librispeech_asr"]
    assert {r.dataset_type for r in written(tmp_path, DATA).data.eval_results} == {"ctc_asr-synthetic"}  # results still say


def test_every_table_has_a_header_and_the_snippet_reads_and_resamples_itself(tmp_path):
    text = written(tmp_path, DATA, lm={"order": 4}).text
    lines = text.splitlines()
    headers = [line for line, below in itertools.pairwise(lines) if below.startswith("| ---")]
    assert len(headers) == 3  # data, results, language model
    assert all(cell.strip() for header in headers for cell in header.strip("|").split("|")), headers
    snippet = card.usage_snippet(text)
    assert "sf.read(" in snippet and "soxr.resample(" in snippet and card.HUB_ID in snippet
    assert "asr(soxr.resample(" in snippet  # an array: no ffmpeg, no torchaudio
    assert "ffmpeg" in text and "16000 Hz" in snippet


def test_the_limitations_say_what_it_was_trained_on(tmp_path):
    synthetic = written(tmp_path, DATA).text
    limits = synthetic.split("## Limitations", 1)[1].split("##", 1)[0]
    assert "synthetic speech alone" in limits and "eSpeak NG" in limits and "3.14 hours" in limits, limits
    assert "pretrained" not in limits  # fine-tuned from facebook/wav2vec2-base here
    timit = DATA.replace(source="timit", timit=DATA.timit.replace(root="/corpora/TIMIT", test_set="core"))
    limits = written(tmp_path, timit).text.split("## Limitations", 1)[1].split("##", 1)[0]
    assert "Trained on TIMIT (LDC93S1) alone (3.14 hours)" in limits and "synthetic" not in limits


def test_a_phone_recogniser_says_phones(tmp_path):
    loaded = written(tmp_path, DATA, test={"greedy": {"per": 0.25}}, headline="per")
    assert "# wav2vec2 CTC speech recogniser (English, phones)" in loaded.text and "It writes phones" in loaded.text
