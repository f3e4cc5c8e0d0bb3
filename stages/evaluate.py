"""evaluate: load the trained directory as a user would, transcribe the test split, score it."""

from pathlib import Path

from transformers import Wav2Vec2ForCTC, Wav2Vec2Processor

from ctc_asr import manifest, params
from ctc_asr.errors import exit_on_user_error
from ctc_asr.reports import write_json
from ctc_asr.scoring import score
from ctc_asr.store import Store
from ctc_asr.model import device
from ctc_asr.transcribe import transcribe

MODEL, ENCODED = Path("models/ctc"), Path("data/encoded")
METRICS, PREDICTIONS = Path("metrics/eval.json"), Path("metrics/predictions.tsv")


@exit_on_user_error
def main() -> None:
    cfg = params.load().evaluate
    network = Wav2Vec2ForCTC.from_pretrained(MODEL).to(device())
    processor = Wav2Vec2Processor.from_pretrained(MODEL)
    encoded = Store(ENCODED)
    rows = encoded.rows("test")
    test = encoded.index.iloc[rows]
    hypotheses = transcribe(network, processor, [encoded.audio(i) for i in rows], cfg.batch_size, progress=True)
    totals, errors = score(test["text"].tolist(), hypotheses)
    table = test[["id", "speaker", "seconds", "text"]].rename(columns={"text": "reference"}).reset_index(drop=True)
    table = table.assign(hypothesis=hypotheses, **errors.to_dict("list"))
    manifest.write_table(table, PREDICTIONS)
    write_json(METRICS, {**totals, "utterances": len(table), "audio_seconds": round(float(table["seconds"].sum()), 2)})
    print(f"evaluate: WER {totals['wer']:.3f}, CER {totals['cer']:.3f} on {len(table)} test utterances")


if __name__ == "__main__":
    main()
