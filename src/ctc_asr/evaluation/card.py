"""The model card (README.md) of the saved model folder: hub metadata from huggingface_hub, test results of evaluate.

The metadata (`ModelCardData`, one `EvalResult` per decoding and metric) is what the model
hub indexes and `huggingface_hub.ModelCard.load` parses; the body says how to use the folder
(a snippet that runs as written: tests/test_results_e2e.py runs it) and what the model cannot do.
"""

import yaml
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from ctc_asr.core.params import DataParams, recorded

TASK = "automatic-speech-recognition"
# Each source's dataset for the card: (its Hub id, None where the Hub has none; the dataset type of the
# eval results, that id or a name of our own; a readable name). Only Hub ids go into `datasets:`.
DATASETS = {"synthetic": (None, "ctc_asr-synthetic", "Harvard sentences spoken by eSpeak NG (built in)"),
            "timit": ("timit-asr/timit_asr", "timit-asr/timit_asr", "TIMIT (LDC93S1)"),
            "librispeech": ("openslr/librispeech_asr", "openslr/librispeech_asr", "LibriSpeech (OpenSLR 12)"),
            "common_voice": (None, "common_voice", "Common Voice (Mozilla)"),  # the Hub's ids name a release
            "manifest": (None, "custom", "own recordings"), "kaldi": (None, "custom", "Kaldi data folders")}
ENGLISH_SOURCES = {"synthetic", "timit", "librispeech"}  # English whatever the params; others: normalize.language
LANGUAGE_NAMES = {"en": "English"}  # in the card's title; other languages by their code
# The snippet's model: a placeholder for the Hub repo id the folder is uploaded to (tests put the folder's path here).
HUB_ID = "<user>/<model>"

USAGE = '''```python
import soundfile as sf
import soxr
from transformers import pipeline

asr = pipeline("automatic-speech-recognition", model="{hub_id}")
rate = asr.feature_extractor.sampling_rate  # {rate} Hz
audio, sr = sf.read("speech.wav", dtype="float32", always_2d=True)  # any format libsndfile reads
print(asr(soxr.resample(audio.mean(axis=1), sr, rate))["text"])  # mono, at the model's rate
```'''

USAGE_NOTES = ("`{hub_id}` stands for the model's Hub repo id once it is uploaded; to run it from this folder, give the "
               "folder's path instead (`{path}`). It decodes with {decoding}{lm_needs}. The snippet reads and resamples "
               "the audio itself because the pipeline cannot on a plain install: given a file path "
               "(`asr(\"speech.wav\")`) it decodes the file with ffmpeg, which must then be installed, and an array at "
               "another rate needs torchaudio.\n\n"
               "For long recordings (chunked, with word times), any format or rate: "
               "`python -m ctc_asr transcribe --model {path} --format json speech.flac` (`--no-lm` for greedy decoding).")

LM_NEEDS = (", which needs pyctcdecode and KenLM's Python module (the ctc_asr install has both: "
            "`pyctcdecode`, `ufal-kenlm`)")

CER_HEADLINE = ("CER is the headline rate (`evaluate.headline`): in text written without spaces between words "
                "(Chinese, Japanese, Thai) a word is a whole utterance, so WER only counts utterances wholly right.")


def dataset_of(data: DataParams) -> dict:
    """The dataset's hub-style identity for the eval results: type (an id), name, config, revision, test split."""
    if data.source == "hub":
        return {"dataset_type": data.hub.name, "dataset_name": data.hub.name, "dataset_config": data.hub.config,
                "dataset_revision": data.hub.revision, "dataset_split": data.hub.test_split}
    _, kind, name = DATASETS[data.source]
    named = {"timit": f"test ({data.timit.test_set})", "librispeech": data.librispeech.test_subset}
    split = named.get(data.source, "test")
    return {"dataset_type": kind, "dataset_name": name, "dataset_split": split}


def hub_dataset(data: DataParams) -> str | None:
    """The training data's Hub id, None where the Hub has none (the built-in corpus, your recordings)."""
    return data.hub.name if data.source == "hub" else DATASETS[data.source][0]


def language_of(data: DataParams, language: str | None) -> str | None:
    """The card's language: normalize.language, else English for the English corpora, else unnamed."""
    return language or ("en" if data.source in ENGLISH_SOURCES else None)


def card_data(data: DataParams, pretrained: str | None, license: str, test: dict[str, dict],
              language: str | None) -> ModelCardData:
    """`test`: decoding name ("ngram", "greedy") -> its rates (wer and cer, or per) on the whole test split, the
    headline rate first (the hub shows the first); `language`: see `language_of`."""
    dataset = dataset_of(data)
    results = [EvalResult(task_type=TASK, task_name="Speech Recognition", metric_type=metric, metric_value=scores[metric],
                          metric_name=f"Test {metric.upper()} ({'n-gram LM' if name == 'ngram' else 'greedy'})", **dataset)
               for name, scores in test.items() for metric in scores]
    return ModelCardData(
        model_name="ctc_asr", language=language, license=license, library_name="transformers", pipeline_tag=TASK,
        tags=["wav2vec2", "ctc", "ctc_asr"], base_model=pretrained, datasets=[hub] if (hub := hub_dataset(data)) else None,
        metrics=list(dict.fromkeys(m for scores in test.values() for m in scores)), eval_results=results,
    )


def _table(rows: dict, what: str) -> list[str]:
    return [f"| {what} | value |", "| --- | --- |", *(f"| {key} | {value} |" for key, value in rows.items())]


def limitations(metadata: ModelCardData, corpus: dict, headline: str, lm: dict | None) -> list[str]:
    """What the model was trained on and what it cannot do, as bullet lines."""
    source = corpus["source"]
    hours = corpus.get("train hours")
    if source == "synthetic":
        data = ("Trained on synthetic speech alone: sentences read by speech synthesisers (eSpeak NG's English "
                f"voices, and any other engine the run added), {hours} hours. It has heard no human voice, no "
                "background noise, room or microphone: expect it to fail on real recordings.")
    else:
        dataset = metadata.eval_results[0].dataset_name if metadata.eval_results else source
        data = (f"Trained on {dataset} alone ({hours} hours): speech unlike it (other accents, recording conditions, "
                "topics) will be recognised worse than the results above say.")
    lines = [data]
    if metadata.base_model is None:
        lines.append("Trained from scratch, with no pretrained checkpoint: a recogniser of real use needs far more "
                     "speech, or a pretrained one such as `facebook/wav2vec2-base` fine-tuned on it.")
    if headline == "per":
        lines.append("It writes phones (those of its vocabulary, `vocab.json`), not words.")
    else:
        lines.append("It writes only the characters of its vocabulary (`vocab.json`), as its training transcripts were "
                     "normalised: lowercase, without the punctuation they dropped, numbers only as they were spelt.")
    if lm:
        lines.append("The n-gram LM knows only the words of its text and favours them: a word outside it can only "
                     "come out spelt as it sounds.")
    lines.append("The pipeline call above hears the whole recording at once, so memory grows with its length; "
                 "`python -m ctc_asr transcribe` cuts long ones into chunks.")
    return [f"- {line}" for line in lines]


def model_card(metadata: ModelCardData, path: str, corpus: dict, results: dict, headline: str, lm: dict | None,
               settings: dict) -> str:
    """Markdown for `path`/README.md. `corpus`: facts of the data (source, "<split> hours", "sample rate", ...);
    `results`: rows of the results table; `headline`: the rate results are judged by (wer, cer, per); `lm`: facts
    of the language model, None without one; `settings`: params sections by name (their runtime-only knobs left out)."""
    decoding = "beam search with the n-gram LM" if lm else "greedy CTC decoding"
    language = LANGUAGE_NAMES.get(metadata.language, metadata.language)
    units = "phones" if headline == "per" else "characters"
    usage = (USAGE + "\n\n" + USAGE_NOTES).format(hub_id=HUB_ID, path=path, rate=corpus["sample rate"], decoding=decoding,
                                                  lm_needs=LM_NEEDS if lm else "")
    body = [
        f"# wav2vec2 CTC speech recogniser ({f'{language}, ' if language else ''}{units})", "",
        f"Trained with the ctc_asr pipeline; decodes with {decoding}. {units.capitalize()} are the vocabulary "
        "(`|` separates words, `[PAD]` is the CTC blank).", "",
        "## Use", "", usage, "",
        "## Limitations", "", *limitations(metadata, corpus, headline, lm), "",
        "## Data", "", *_table(corpus, "data"), "",
        "## Results", "",
        "On the whole test split, which nothing was tuned on (the LM weights were chosen on dev).", "",
        *([CER_HEADLINE, ""] if headline == "cer" else []),
        *_table(results, "result"), "",
    ]
    if lm:
        body += ["## Language model", "",
                 "A word n-gram (interpolated modified Kneser-Ney) in `language_model/`, decoded with pyctcdecode "
                 "as `Wav2Vec2ProcessorWithLM` runs it.", "", *_table(lm, "setting"), ""]
    body += ["## Training settings", "", "```yaml", yaml.safe_dump(recorded(settings), sort_keys=False).strip(), "```", ""]
    return str(ModelCard(f"---\n{metadata.to_yaml()}\n---\n\n" + "\n".join(body)))


def usage_snippet(card: str) -> str:
    """The Python snippet of a card written by `model_card`: its first python code block."""
    return card.split("```python\n", 1)[1].split("```", 1)[0]
