"""A model card (README.md) for the saved model directory, so it can be shared as it is."""

import yaml

USAGE = '''```python
import soundfile as sf
import torch
from transformers import Wav2Vec2ForCTC, Wav2Vec2Processor

model = Wav2Vec2ForCTC.from_pretrained("{path}")
processor = Wav2Vec2Processor.from_pretrained("{path}")
samples, rate = sf.read("speech.wav")          # mono, {rate} Hz
inputs = processor(samples, sampling_rate=rate, return_tensors="pt")
with torch.inference_mode():
    ids = model(**inputs).logits.argmax(-1)
print(processor.batch_decode(ids)[0])
```

Or, for any format, rate or length, with word times:
`python -m ctc_asr transcribe --model {path} --format json speech.flac`'''


def model_card(path: str, data: dict, settings: dict, results: dict, sample_rate: int) -> str:
    """Markdown with hub metadata: `data` (corpus facts), `settings` (params sections by name),
    `results` (training summary, including the dev wer/cer of the last evaluation)."""
    metadata = {
        "language": ["en"], "library_name": "transformers", "pipeline_tag": "automatic-speech-recognition",
        "tags": ["wav2vec2", "ctc", "ctc_asr"],
        "model-index": [{"name": "ctc_asr", "results": [{
            "task": {"type": "automatic-speech-recognition", "name": "Speech Recognition"},
            "dataset": {"name": str(data.get("source")), "type": str(data.get("source"))},
            "metrics": [{"type": m, "value": results[f"eval_{m}"], "name": f"dev {m.upper()}"}
                        for m in ("wer", "cer") if results.get(f"eval_{m}") is not None],
        }]}],
    }
    facts = "\n".join(f"| {key} | {value} |" for key, value in data.items())
    outcome = "\n".join(f"| {key} | {value} |" for key, value in results.items())
    return "\n".join([
        "---", yaml.safe_dump(metadata, sort_keys=False).strip(), "---", "",
        "# wav2vec2 CTC speech recogniser (English, characters)", "",
        "Trained with the ctc_asr pipeline. Greedy CTC decoding over a character vocabulary "
        "(`|` separates words, `[PAD]` is the blank).", "",
        "## Use", "", USAGE.format(path=path, rate=sample_rate), "",
        "## Data", "", "| | |", "| --- | --- |", facts, "",
        "## Training settings", "", "```yaml", yaml.safe_dump(settings, sort_keys=False).strip(), "```", "",
        "## Results", "",
        "Dev WER/CER: the last in-training evaluation, on a fixed subset of dev clips "
        "(the pipeline's evaluate stage scores the whole test split).", "",
        "| | |", "| --- | --- |", outcome, "",
    ])


LM_USAGE = '''```python
from transformers import pipeline

asr = pipeline("automatic-speech-recognition", model="{path}")   # beam search with the LM
print(asr("speech.wav")["text"])
```'''


def lm_section(results: dict, lm: dict, beam_width: int, path: str) -> str:
    """The model card's part on the n-gram LM it decodes with: what it is, its weights, dev WER/CER."""
    rows = [("n-gram order", lm["order"]), ("extra text", lm["text"] or "none (training transcripts only)"),
            ("beam width", beam_width), ("alpha (LM weight)", results["alpha"]), ("beta (word bonus)", results["beta"]),
            ("dev WER greedy / LM", f"{results['dev_greedy']['wer']} / {results['dev_lm']['wer']}"),
            ("dev CER greedy / LM", f"{results['dev_greedy']['cer']} / {results['dev_lm']['cer']}")]
    return "\n".join([
        "", "## Language model", "",
        "The folder holds a word n-gram (`language_model/`, interpolated modified Kneser-Ney from the training "
        "transcripts) that `Wav2Vec2ProcessorWithLM` and the ASR pipeline decode with (pyctcdecode). Alpha and beta "
        f"were chosen on the {results['dev_utterances']} dev utterances.", "",
        "| | |", "| --- | --- |", *(f"| {k} | {v} |" for k, v in rows), "", LM_USAGE.format(path=path), "",
    ])
