"""evaluate: build models/asr (the trained model with its tuned LM decoder), load it as a user would,
transcribe every test clip greedily and with the LM, analyse the errors, write the model card.

The headline WER/CER is the LM's when there is one; CER leads for text written without spaces
(evaluate.headline). Test transcripts are scored as they are,
even with characters the vocabulary lacks. With the phone target the score is the PER
(greedy: the LM is a word model), TIMIT's after folding its phones to the standard 39.
"""

import json
import shutil
import time
from pathlib import Path

from transformers import Wav2Vec2ForCTC, Wav2Vec2Processor

from ctc_asr.core import params, tables
from ctc_asr.core.errors import exit_on_user_error
from ctc_asr.core.outputs import clear, replacing, write_json
from ctc_asr.data import vocab
from ctc_asr.data.phones import FOLD_48_TO_39, fold
from ctc_asr.data.store import Store
from ctc_asr.decoding import beam
from ctc_asr.decoding.inference import greedy_text, logits
from ctc_asr.evaluation import card
from ctc_asr.evaluation.analysis import analyse, headline_rate, phone_rates
from ctc_asr.evaluation.scoring import score
from ctc_asr.network.model import SCRATCH, device

TRAINED, LM, ENCODED, OUT = Path("models/ctc"), Path("data/lm"), Path("data/encoded"), Path("models/asr")
TUNED, TRAIN_METRICS, LM_METRICS = Path("metrics/tune.json"), Path("metrics/train.json"), Path("metrics/lm.json")
METRICS, PREDICTIONS, DETAILS = Path("metrics/eval.json"), Path("metrics/predictions.tsv"), Path("metrics/eval")
TIMING = Path("metrics/timing/evaluate.json")  # apart from the metrics: it differs run to run, they must not


def assemble(tuned: dict, folder: Path) -> None:
    """models/asr: the trained folder, plus its LM decoder with the tuned weights when there is one."""
    shutil.copytree(TRAINED, folder, copy_function=shutil.copyfile)  # not its modes: a linked cache's files are read-only
    if tuned["lm"]:
        processor = Wav2Vec2Processor.from_pretrained(TRAINED)
        beam.save(folder, processor, beam.decoder(processor, LM, tuned["alpha"], tuned["beta"]))


def transcribe(network, processor, clips, cfg: params.Params, audio_seconds: float) -> tuple[dict, dict]:
    """Greedy and (with an LM) beam-search texts of every clip, and how fast each went."""
    started = time.perf_counter()
    scores = logits(network, clips, cfg.evaluate.batch_size, progress=True)
    forward = time.perf_counter() - started
    decoded = {"greedy": [greedy_text(processor, s) for s in scores]}
    timing = {"forward_seconds": round(forward, 2),
              "greedy_real_time_factor": round((time.perf_counter() - started) / audio_seconds, 4)}
    if hasattr(processor, "decoder"):
        started = time.perf_counter()
        decoded["lm"] = beam.beam_texts(processor.decoder, scores, cfg.decode.beam_width)
        searching = time.perf_counter() - started
        timing |= {"beam_search_seconds": round(searching, 2),
                   "beam_search_utterances_per_second": round(len(clips) / searching, 1),
                   "lm_real_time_factor": round((forward + searching) / audio_seconds, 4)}
    return decoded, timing


def write_card(cfg: params.Params, encoded: Store, side_by_side: dict, judged_by: str, tuned: dict, folder: Path) -> None:
    splits = encoded.index.groupby("split")
    corpus = {"source": cfg.data.source, **{f"{s} utterances": int(n) for s, n in splits.size().items()},
              **{f"{s} hours": round(float(x) / 3600, 3) for s, x in splits["seconds"].sum().items()},
              **{f"{s} speakers": int(n) for s, n in splits["speaker"].nunique().items()},
              "train utterances kept by the filter": json.loads(TRAIN_METRICS.read_text())["train_utterances"],
              "sample rate": encoded.sample_rate}
    results = {f"test {m.upper()}, {name}": value for name, scores in side_by_side.items() for m, value in scores.items()}
    lm = None
    if tuned["lm"]:
        results |= {f"dev WER, {name}": tuned[f"dev_{name}"]["wer"] for name in ("greedy", "lm")}
        counts = json.loads(LM_METRICS.read_text())
        lm = {"order": cfg.lm.order, "text": cfg.lm.text or "training transcripts only",
              **{k: counts[k] for k in ("sentences", "words", "vocabulary")},
              "alpha (LM weight)": tuned["alpha"], "beta (word bonus)": tuned["beta"], "beam width": cfg.decode.beam_width}
    pretrained = None if cfg.model.pretrained == SCRATCH else cfg.model.pretrained
    metadata = card.card_data(cfg.data, pretrained, cfg.evaluate.license, side_by_side,
                              card.language_of(cfg.data, cfg.normalize.language))
    settings = {name: getattr(cfg, name).model_dump() for name in ("model", "train", "filter")}
    (folder / "README.md").write_text(card.model_card(metadata, str(OUT), corpus, results, judged_by, lm, settings))


def scored_texts(cfg: params.Params, references: list[str], decoded: dict) -> tuple[list[str], dict]:
    """References and hypotheses as they are scored: TIMIT's phones folded to the 39 of the literature."""
    if cfg.target == "phones" and cfg.data.source == "timit":
        return [fold(t, FOLD_48_TO_39) for t in references], {
            name: [fold(t, FOLD_48_TO_39) for t in texts] for name, texts in decoded.items()}
    return references, decoded


@exit_on_user_error
def main() -> None:
    clear(OUT, PREDICTIONS, DETAILS, TIMING)
    cfg = params.load()
    phones = cfg.target == "phones"
    tuned = json.loads(TUNED.read_text())
    # models/asr and the details are built beside their places and take them only when complete
    with replacing(OUT) as asr, replacing(DETAILS) as details:
        assemble(tuned, asr)
        network = Wav2Vec2ForCTC.from_pretrained(asr).to(device())
        processor = beam.load_processor(asr)
        encoded = Store(ENCODED)
        rows = encoded.rows("test")
        test = encoded.index.iloc[rows]
        audio_seconds = float(test["seconds"].sum())
        decoded, timing = transcribe(network, processor, [encoded.audio(i) for i in rows], cfg, audio_seconds)
        references, decoded = scored_texts(cfg, test["text"].tolist(), decoded)
        test = test.assign(text=references)
        headline = "lm" if "lm" in decoded else "greedy"
        result = analyse(test, decoded[headline], cfg.evaluate.duration_buckets, cfg.evaluate.group_by, cfg.evaluate.top_errors,
                         phones)
        tables.write(result.predictions.assign(greedy_hypothesis=decoded["greedy"]), PREDICTIONS)
        for name, table in result.groups.items():
            tables.write(table, details / f"by_{name}.tsv")
        tables.write(result.top_errors, details / "top_errors.tsv")
        tables.write(result.confusions, details / "confusions.tsv")
        train_texts = encoded.index.loc[encoded.index["split"] == "train", "text"]
        judged_by = "per" if phones else headline_rate(cfg.evaluate.headline, train_texts)
        rates = ["per"] if phones else ["cer", "wer"] if judged_by == "cer" else ["wer", "cer"]  # the headline first
        # the headline decoding is scored by analyse; the other one here
        totals = {name: result.totals if name == headline else score(references, texts)[0] for name, texts in decoded.items()}
        side_by_side = {name: {r: (phone_rates(t) if phones else t)[r] for r in rates} for name, t in totals.items()}
        known = processor.tokenizer.get_vocab()
        unseen = sum(bool(vocab.unseen([t], known, cfg.target)) for t in test["text"])
        durations = result.groups["duration"].set_index("duration")
        write_json(METRICS, {
            # "headline" only where it is not the usual one (WER, PER): eval.json files without it, the default
            # run's included, stay as they were
            **result.totals, "decoding": headline, **({"headline": judged_by} if judged_by == "cer" else {}), **side_by_side,
            "utterances": len(test), f"utterances_with_unseen_{'phones' if phones else 'characters'}": unseen,
            "audio_seconds": round(audio_seconds, 2), "device": str(network.device),
            "by_duration": durations[["utterances", *rates]].to_dict("index"),
        })
        write_json(TIMING, timing)
        write_card(cfg, encoded, side_by_side, judged_by, tuned, asr)
    shown = ", ".join(f"{name} " + " ".join(f"{r.upper()} {v[r]:.3f}" for r in rates) for name, v in side_by_side.items())
    print(f"evaluate: {shown} on {len(test)} test utterances "
          f"({1 / timing.get('lm_real_time_factor', timing['greedy_real_time_factor']):.0f}x real time) -> {OUT}; "
          f"details in {DETAILS}/")


if __name__ == "__main__":
    main()
