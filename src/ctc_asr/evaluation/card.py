"""The model card (README.md) of the saved model folder: hub metadata from huggingface_hub, test results of evaluate.

The metadata (`ModelCardData`, one `EvalResult` per decoding and metric) is what the model
hub indexes and `huggingface_hub.ModelCard.load` parses; the body says how to use the folder.
"""

import yaml
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from ctc_asr.core.params import DataParams

TASK = "automatic-speech-recognition"
# Sources without a hub id of their own: (dataset type, name) for the card.
LOCAL_DATASETS = {"synthetic": ("ctc_asr-synthetic", "Harvard sentences spoken by eSpeak NG (built in)"),
                  "timit": ("timit_asr", "TIMIT (LDC93S1)"), "manifest": ("custom", "own recordings"),
                  "librispeech": ("openslr/librispeech_asr", "LibriSpeech (OpenSLR 12)"),
                  "common_voice": ("common_voice", "Common Voice (Mozilla)"), "kaldi": ("custom", "Kaldi data folders")}
ENGLISH_SOURCES = {"synthetic", "timit", "librispeech"}  # English whatever the params; others: normalize.language
LANGUAGE_NAMES = {"en": "English"}  # in the card's title; other languages by their code

USAGE = '''```python
from transformers import pipeline

asr = pipeline("automatic-speech-recognition", model="{path}")   # {decoding}
print(asr("speech.wav")["text"])
```

Or, for any format, rate or length, with word times:
`python -m ctc_asr transcribe --model {path} --format json speech.flac` (`--no-lm` for greedy decoding).'''


CER_HEADLINE = ("CER is the headline rate (`evaluate.headline`): in text written without spaces between words "
                "(Chinese, Japanese, Thai) a word is a whole utterance, so WER only counts utterances wholly right.")


def dataset_of(data: DataParams) -> dict:
    """The dataset's hub-style identity: type (an id), name, config, revision, test split."""
    if data.source == "hub":
        return {"dataset_type": data.hub.name, "dataset_name": data.hub.name, "dataset_config": data.hub.config,
                "dataset_revision": data.hub.revision, "dataset_split": data.hub.test_split}
    kind, name = LOCAL_DATASETS[data.source]
    named = {"timit": f"test ({data.timit.test_set})", "librispeech": data.librispeech.test_subset}
    split = named.get(data.source, "test")
    return {"dataset_type": kind, "dataset_name": name, "dataset_split": split}


def language_of(data: DataParams, language: str | None) -> str | None:
    """The card's language: normalize.language, else English for the English corpora, else unnamed."""
    return language or ("en" if data.source in ENGLISH_SOURCES else None)


def card_data(data: DataParams, pretrained: str | None, license: str, test: dict[str, dict],
              language: str | None) -> ModelCardData:
    """`test`: decoding name ("lm", "greedy") -> its rates (wer and cer, or per) on the whole test split, the
    headline rate first (the hub shows the first); `language`: see `language_of`."""
    dataset = dataset_of(data)
    results = [EvalResult(task_type=TASK, task_name="Speech Recognition", metric_type=metric, metric_value=scores[metric],
                          metric_name=f"Test {metric.upper()} ({'n-gram LM' if name == 'lm' else 'greedy'})", **dataset)
               for name, scores in test.items() for metric in scores]
    return ModelCardData(
        model_name="ctc_asr", language=language, license=license, library_name="transformers", pipeline_tag=TASK,
        tags=["wav2vec2", "ctc", "ctc_asr"], base_model=pretrained, datasets=[dataset["dataset_type"]],
        metrics=list(dict.fromkeys(m for scores in test.values() for m in scores)), eval_results=results,
    )


def _table(rows: dict) -> list[str]:
    return ["| | |", "| --- | --- |", *(f"| {key} | {value} |" for key, value in rows.items())]


def model_card(metadata: ModelCardData, path: str, corpus: dict, results: dict, headline: str, lm: dict | None,
               settings: dict) -> str:
    """Markdown for `path`/README.md. `corpus`: facts of the data; `results`: rows of the results table;
    `headline`: the rate results are judged by (wer, cer, per); `lm`: facts of the language model, None without
    one; `settings`: params sections by name."""
    decoding = "beam search with the n-gram LM" if lm else "greedy CTC decoding"
    language = LANGUAGE_NAMES.get(metadata.language, metadata.language)
    body = [
        f"# wav2vec2 CTC speech recogniser ({f'{language}, ' if language else ''}characters)", "",
        f"Trained with the ctc_asr pipeline; decodes with {decoding}. Characters are the vocabulary "
        "(`|` separates words, `[PAD]` is the CTC blank).", "",
        "## Use", "", USAGE.format(path=path, decoding=decoding), "",
        "## Data", "", *_table(corpus), "",
        "## Results", "",
        "On the whole test split, which nothing was tuned on (the LM weights were chosen on dev).", "",
        *([CER_HEADLINE, ""] if headline == "cer" else []),
        *_table(results), "",
    ]
    if lm:
        body += ["## Language model", "",
                 "A word n-gram (interpolated modified Kneser-Ney) in `language_model/`, decoded with pyctcdecode "
                 "as `Wav2Vec2ProcessorWithLM` runs it.", "", *_table(lm), ""]
    body += ["## Training settings", "", "```yaml", yaml.safe_dump(settings, sort_keys=False).strip(), "```", ""]
    return str(ModelCard(f"---\n{metadata.to_yaml()}\n---\n\n" + "\n".join(body)))
