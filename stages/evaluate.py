"""evaluate: load the model folder as a user would, transcribe every test clip, analyse the errors.

Greedy and LM decoding side by side; the headline WER/CER is the LM's when the folder has one.
Test transcripts are scored as they are, even with characters the vocabulary lacks.
"""

import time
from pathlib import Path

from transformers import Wav2Vec2ForCTC

from ctc_asr import decoding, params, tables, vocab
from ctc_asr.errors import exit_on_user_error
from ctc_asr.evaluation import analyse
from ctc_asr.inference import greedy_text, logits
from ctc_asr.model import device
from ctc_asr.reports import write_json
from ctc_asr.scoring import score
from ctc_asr.store import Store

MODEL, ENCODED = Path("models/asr"), Path("data/encoded")
METRICS, PREDICTIONS, DETAILS = Path("metrics/eval.json"), Path("metrics/predictions.tsv"), Path("metrics/eval")
TIMING = Path("metrics/timing/evaluate.json")  # apart from the metrics: it differs run to run, they must not


@exit_on_user_error
def main() -> None:
    cfg = params.load()
    network = Wav2Vec2ForCTC.from_pretrained(MODEL).to(device())
    processor = decoding.load_processor(MODEL)
    encoded = Store(ENCODED)
    rows = encoded.rows("test")
    test = encoded.index.iloc[rows]
    audio_seconds = float(test["seconds"].sum())
    started = time.perf_counter()
    scores = logits(network, [encoded.audio(i) for i in rows], cfg.evaluate.batch_size, progress=True)
    forward = time.perf_counter() - started
    greedy = [greedy_text(processor, s) for s in scores]
    greedy_seconds = time.perf_counter() - started
    timing = {"forward_seconds": round(forward, 2), "greedy_real_time_factor": round(greedy_seconds / audio_seconds, 4)}
    decoded = {"greedy": greedy}
    if hasattr(processor, "decoder"):
        started = time.perf_counter()
        decoded["lm"] = decoding.beam_texts(processor.decoder, scores, cfg.decode.beam_width)
        beam = time.perf_counter() - started
        timing |= {"beam_search_seconds": round(beam, 2), "beam_search_utterances_per_second": round(len(rows) / beam, 1),
                   "lm_real_time_factor": round((forward + beam) / audio_seconds, 4)}
    headline = "lm" if "lm" in decoded else "greedy"
    result = analyse(test, decoded[headline], cfg.evaluate.duration_buckets, cfg.evaluate.group_by, cfg.evaluate.top_errors)
    tables.write(result.predictions.assign(greedy_hypothesis=greedy), PREDICTIONS)
    for name, table in result.groups.items():
        tables.write(table, DETAILS / f"by_{name}.tsv")
    tables.write(result.top_errors, DETAILS / "top_errors.tsv")
    tables.write(result.char_errors, DETAILS / "char_errors.tsv")
    side_by_side = {name: {k: v for k, v in score(test["text"].tolist(), texts)[0].items() if k in ("wer", "cer")}
                    for name, texts in decoded.items()}
    unseen = sum(bool(vocab.unseen([t], processor.tokenizer.get_vocab())) for t in test["text"])
    durations = result.groups["duration"].set_index("duration")
    write_json(METRICS, {
        **result.totals, "decoding": headline, **side_by_side,
        "utterances": len(test), "utterances_with_unseen_characters": unseen,
        "audio_seconds": round(audio_seconds, 2), "device": str(network.device),
        "by_duration": durations[["utterances", "wer", "cer"]].to_dict("index"),
    })
    write_json(TIMING, timing)
    shown = ", ".join(f"{name} WER {v['wer']:.3f} CER {v['cer']:.3f}" for name, v in side_by_side.items())
    print(f"evaluate: {shown} on {len(test)} test utterances "
          f"({1 / timing.get('lm_real_time_factor', timing['greedy_real_time_factor']):.0f}x real time); details in {DETAILS}/")


if __name__ == "__main__":
    main()
