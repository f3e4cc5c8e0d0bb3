"""tune: the LM weight (alpha) and word bonus (beta) that decode dev best, for evaluate to build models/asr with.

Dev only: test stays unseen until evaluate. With ngram.order 0 there is nothing to tune.
"""

import pandas as pd

from ctc_asr.core import layout, params, tables
from ctc_asr.core.errors import exit_on_user_error
from ctc_asr.core.outputs import clear
from ctc_asr.data.store import Store
from ctc_asr.decoding import beam, recogniser
from ctc_asr.decoding.inference import greedy_text, logits
from ctc_asr.evaluation.scoring import score


@exit_on_user_error
def main() -> None:
    clear(layout.TUNE_GRID)
    cfg = params.load()
    if not beam.has_lm(layout.LM):
        tables.write(pd.DataFrame(columns=["alpha", "beta", "wer", "cer"]), layout.TUNE_GRID)
        layout.Tuned(ngram=False).write()
        print("tune: no language model (ngram.order 0), nothing to tune: decoding is greedy")
        return
    model = recogniser.load(layout.TRAINED, with_lm=False)
    encoded = Store(layout.ENCODED)
    rows = encoded.rows("dev")
    scores = logits(model.network, [encoded.audio(i) for i in rows], cfg.decode.batch_size, progress=True)
    references = encoded.index["text"].iloc[rows].tolist()
    greedy, _ = score(references, [greedy_text(model.processor, s) for s in scores])
    decoder = beam.decoder(model.processor, layout.LM, alpha=0.0, beta=0.0)
    grid = beam.tune(decoder, scores, references, cfg.decode.alpha, cfg.decode.beta, cfg.decode.beam_width, progress=True)
    best = grid.iloc[0]
    tables.write(grid, layout.TUNE_GRID)
    layout.Tuned(ngram=True, alpha=float(best["alpha"]), beta=float(best["beta"]), dev_utterances=len(rows),
                 dev_greedy=layout.Rates(wer=greedy["wer"], cer=greedy["cer"]),
                 dev_ngram=layout.Rates(wer=float(best["wer"]), cer=float(best["cer"]))).write()
    print(f"tune: alpha {best['alpha']:g}, beta {best['beta']:g} on {len(rows)} dev utterances: "
          f"WER {greedy['wer']:.3f} greedy -> {best['wer']:.3f} with the LM")


if __name__ == "__main__":
    main()
