"""evaluate: load the trained directory as a user would, transcribe the test split, analyse the errors."""

import time
from pathlib import Path

from transformers import Wav2Vec2ForCTC, Wav2Vec2Processor

from ctc_asr import params, tables
from ctc_asr.errors import exit_on_user_error
from ctc_asr.evaluation import analyse
from ctc_asr.inference import greedy_texts
from ctc_asr.model import device
from ctc_asr.reports import write_json
from ctc_asr.store import Store

MODEL, ENCODED = Path("models/ctc"), Path("data/encoded")
METRICS, PREDICTIONS, DETAILS = Path("metrics/eval.json"), Path("metrics/predictions.tsv"), Path("metrics/eval")
TIMING = Path("metrics/timing/evaluate.json")  # apart from the metrics: it differs run to run, they must not


@exit_on_user_error
def main() -> None:
    cfg = params.load().evaluate
    network = Wav2Vec2ForCTC.from_pretrained(MODEL).to(device())
    processor = Wav2Vec2Processor.from_pretrained(MODEL)
    encoded = Store(ENCODED)
    rows = encoded.rows("test")
    test = encoded.index.iloc[rows]
    started = time.perf_counter()
    hypotheses = greedy_texts(network, processor, [encoded.audio(i) for i in rows], cfg.batch_size, progress=True)
    compute_seconds = time.perf_counter() - started
    result = analyse(test, hypotheses, cfg.duration_buckets, cfg.group_by, cfg.top_errors)
    tables.write(result.predictions, PREDICTIONS)
    for name, table in result.groups.items():
        tables.write(table, DETAILS / f"by_{name}.tsv")
    tables.write(result.top_errors, DETAILS / "top_errors.tsv")
    tables.write(result.char_errors, DETAILS / "char_errors.tsv")
    audio_seconds = float(test["seconds"].sum())
    durations = result.groups["duration"].set_index("duration")
    write_json(METRICS, {
        **result.totals, "utterances": len(test), "audio_seconds": round(audio_seconds, 2), "device": str(network.device),
        "by_duration": durations[["utterances", "wer", "cer"]].to_dict("index"),
    })
    write_json(TIMING, {"seconds": round(compute_seconds, 2), "real_time_factor": round(compute_seconds / audio_seconds, 4)})
    print(f"evaluate: WER {result.totals['wer']:.3f}, CER {result.totals['cer']:.3f} on {len(test)} test utterances"
          f" ({audio_seconds / compute_seconds:.0f}x real time); details in {DETAILS}/")


if __name__ == "__main__":
    main()
