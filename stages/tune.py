"""tune: the LM weight and word bonus that decode dev best; models/asr is the trained model with that decoder.

Dev only: test stays unseen until evaluate. With lm.order 0, models/asr is the model as trained.
"""

import shutil
from pathlib import Path

import pandas as pd
from transformers import Wav2Vec2ForCTC, Wav2Vec2Processor

from ctc_asr import decoding, params, tables
from ctc_asr.card import lm_section
from ctc_asr.errors import exit_on_user_error
from ctc_asr.inference import greedy_text, logits
from ctc_asr.model import device
from ctc_asr.reports import write_json
from ctc_asr.scoring import score
from ctc_asr.store import Store

MODEL, LM, ENCODED, OUT = Path("models/ctc"), Path("data/lm"), Path("data/encoded"), Path("models/asr")
METRICS, GRID = Path("metrics/tune.json"), Path("metrics/tune/grid.tsv")


@exit_on_user_error
def main() -> None:
    cfg = params.load()
    shutil.rmtree(OUT, ignore_errors=True)
    shutil.copytree(MODEL, OUT)
    if not decoding.has_lm(LM):
        tables.write(pd.DataFrame(columns=["alpha", "beta", "wer", "cer"]), GRID)
        write_json(METRICS, {"lm": False})
        print(f"tune: no language model (lm.order 0): {OUT} decodes greedily")
        return
    network = Wav2Vec2ForCTC.from_pretrained(MODEL).to(device())
    processor = Wav2Vec2Processor.from_pretrained(MODEL)
    encoded = Store(ENCODED)
    rows = encoded.rows("dev")
    scores = logits(network, [encoded.audio(i) for i in rows], cfg.evaluate.batch_size, progress=True)
    references = encoded.index["text"].iloc[rows].tolist()
    greedy, _ = score(references, [greedy_text(processor, s) for s in scores])
    beam = decoding.decoder(processor, LM, alpha=0.0, beta=0.0)
    grid = decoding.tune(beam, scores, references, cfg.decode.alpha, cfg.decode.beta, cfg.decode.beam_width)
    best = grid.iloc[0]
    decoding.save(OUT, processor, beam)
    tables.write(grid, GRID)
    results = {"lm": True, "alpha": float(best["alpha"]), "beta": float(best["beta"]), "dev_utterances": len(rows),
               "dev_greedy": {"wer": greedy["wer"], "cer": greedy["cer"]},
               "dev_lm": {"wer": float(best["wer"]), "cer": float(best["cer"])}}
    with (OUT / "README.md").open("a") as card:
        card.write(lm_section(results, cfg.lm.model_dump(), cfg.decode.beam_width, str(OUT)))
    write_json(METRICS, results)
    print(f"tune: alpha {best['alpha']:g}, beta {best['beta']:g} on {len(rows)} dev utterances: WER {greedy['wer']:.3f} "
          f"greedy -> {best['wer']:.3f} with the LM -> {OUT}")


if __name__ == "__main__":
    main()
