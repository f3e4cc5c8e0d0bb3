"""tune: the LM weight (alpha) and word bonus (beta) that decode dev best, for evaluate to build models/asr with.

Dev only: test stays unseen until evaluate. With lm.order 0 there is nothing to tune.
"""

from pathlib import Path

import pandas as pd
from transformers import Wav2Vec2ForCTC, Wav2Vec2Processor

from ctc_asr.core import params, tables
from ctc_asr.core.errors import exit_on_user_error
from ctc_asr.core.outputs import clear, write_json
from ctc_asr.data.store import Store
from ctc_asr.decoding import beam
from ctc_asr.decoding.inference import greedy_text, logits
from ctc_asr.evaluation.scoring import score
from ctc_asr.network.model import device

MODEL, LM, ENCODED = Path("models/ctc"), Path("data/lm"), Path("data/encoded")
METRICS, GRID = Path("metrics/tune.json"), Path("metrics/tune/grid.tsv")


@exit_on_user_error
def main() -> None:
    clear(GRID)
    cfg = params.load()
    if not beam.has_lm(LM):
        tables.write(pd.DataFrame(columns=["alpha", "beta", "wer", "cer"]), GRID)
        write_json(METRICS, {"lm": False})
        print("tune: no language model (lm.order 0), nothing to tune: decoding is greedy")
        return
    network = Wav2Vec2ForCTC.from_pretrained(MODEL).to(device())
    processor = Wav2Vec2Processor.from_pretrained(MODEL)
    encoded = Store(ENCODED)
    rows = encoded.rows("dev")
    scores = logits(network, [encoded.audio(i) for i in rows], cfg.evaluate.batch_size, progress=True)
    references = encoded.index["text"].iloc[rows].tolist()
    greedy, _ = score(references, [greedy_text(processor, s) for s in scores])
    decoder = beam.decoder(processor, LM, alpha=0.0, beta=0.0)
    grid = beam.tune(decoder, scores, references, cfg.decode.alpha, cfg.decode.beta, cfg.decode.beam_width)
    best = grid.iloc[0]
    tables.write(grid, GRID)
    write_json(METRICS, {"lm": True, "alpha": float(best["alpha"]), "beta": float(best["beta"]), "dev_utterances": len(rows),
                         "dev_greedy": {"wer": greedy["wer"], "cer": greedy["cer"]},
                         "dev_lm": {"wer": float(best["wer"]), "cer": float(best["cer"])}})
    print(f"tune: alpha {best['alpha']:g}, beta {best['beta']:g} on {len(rows)} dev utterances: "
          f"WER {greedy['wer']:.3f} greedy -> {best['wer']:.3f} with the LM")


if __name__ == "__main__":
    main()
