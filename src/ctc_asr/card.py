"""The model card (README.md) of the saved model folder: hub metadata from huggingface_hub, test results of evaluate.

The metadata (`ModelCardData`, one `EvalResult` per decoding and metric) is what the model
hub indexes and `huggingface_hub.ModelCard.load` parses; the body says how to use the folder.
"""

import yaml
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from .params import DataParams

TASK = "automatic-speech-recognition"
# Sources without a hub id of their own: (dataset type, name) for the card.
LOCAL_DATASETS = {"synthetic": ("ctc_asr-synthetic", "Harvard sentences spoken by eSpeak NG (built in)"),
                  "timit": ("timit_asr", "TIMIT (LDC93S1)"), "manifest": ("custom", "own recordings")}

USAGE = '''```python
from transformers import pipeline

asr = pipeline("automatic-speech-recognition", model="{path}")   # {decoding}
print(asr("speech.wav")["text"])
```

Or, for any format, rate or length, with word times:
`python -m ctc_asr transcribe --model {path} --format json speech.flac` (`--no-lm` for greedy decoding).'''


def dataset_of(data: DataParams) -> dict:
    """The dataset's hub-style identity: type (an id), name, config, revision, test split."""
    if data.source == "hub":
        return {"dataset_type": data.hub.name, "dataset_name": data.hub.name, "dataset_config": data.hub.config,
                "dataset_revision": data.hub.revision, "dataset_split": data.hub.test_split}
    kind, name = LOCAL_DATASETS[data.source]
    split = f"test ({data.timit.test_set})" if data.source == "timit" else "test"
    return {"dataset_type": kind, "dataset_name": name, "dataset_split": split}


def card_data(data: DataParams, pretrained: str | None, license: str, test: dict[str, dict]) -> ModelCardData:
    """`test`: decoding name ("lm", "greedy") -> its rates (wer and cer, or per) on the whole test split."""
    dataset = dataset_of(data)
    results = [EvalResult(task_type=TASK, task_name="Speech Recognition", metric_type=metric, metric_value=scores[metric],
                          metric_name=f"Test {metric.upper()} ({'n-gram LM' if name == 'lm' else 'greedy'})", **dataset)
               for name, scores in test.items() for metric in scores]
    return ModelCardData(
        model_name="ctc_asr", language="en", license=license, library_name="transformers", pipeline_tag=TASK,
        tags=["wav2vec2", "ctc", "ctc_asr"], base_model=pretrained, datasets=[dataset["dataset_type"]],
        metrics=list(dict.fromkeys(m for scores in test.values() for m in scores)), eval_results=results,
    )


def _table(rows: dict) -> list[str]:
    return ["| | |", "| --- | --- |", *(f"| {key} | {value} |" for key, value in rows.items())]


def model_card(metadata: ModelCardData, path: str, corpus: dict, results: dict, lm: dict | None, settings: dict) -> str:
    """Markdown for `path`/README.md. `corpus`: facts of the data; `results`: rows of the results table;
    `lm`: facts of the language model, None without one; `settings`: params sections by name."""
    decoding = "beam search with the n-gram LM" if lm else "greedy CTC decoding"
    body = [
        "# wav2vec2 CTC speech recogniser (English, characters)", "",
        f"Trained with the ctc_asr pipeline; decodes with {decoding}. Characters are the vocabulary "
        "(`|` separates words, `[PAD]` is the CTC blank).", "",
        "## Use", "", USAGE.format(path=path, decoding=decoding), "",
        "## Data", "", *_table(corpus), "",
        "## Results", "",
        "On the whole test split, which nothing was tuned on (the LM weights were chosen on dev).", "",
        *_table(results), "",
    ]
    if lm:
        body += ["## Language model", "",
                 "A word n-gram (interpolated modified Kneser-Ney) in `language_model/`, decoded with pyctcdecode "
                 "as `Wav2Vec2ProcessorWithLM` runs it.", "", *_table(lm), ""]
    body += ["## Training settings", "", "```yaml", yaml.safe_dump(settings, sort_keys=False).strip(), "```", ""]
    return str(ModelCard(f"---\n{metadata.to_yaml()}\n---\n\n" + "\n".join(body)))
