"""train: fit Wav2Vec2ForCTC (CUDA when present) and save a directory HF loads as it is."""

from pathlib import Path

import numpy as np

from ctc_asr import manifest, model, params, vocab
from ctc_asr.card import model_card
from ctc_asr.errors import exit_on_user_error
from ctc_asr.history import History
from ctc_asr.reports import write_json
from ctc_asr.store import Store
from ctc_asr.train import Evaluator, fit

ENCODED, KEPT, VOCAB = Path("data/encoded"), Path("data/filtered/train.tsv"), Path("data/vocab.json")
OUT, HISTORY, METRICS = Path("models/ctc"), Path("metrics/train"), Path("metrics/train.json")


@exit_on_user_error
def main() -> None:
    cfg = params.load()
    encoded = Store(ENCODED)
    decisions = manifest.read_table(KEPT)
    train_rows = np.flatnonzero(encoded.index["id"].isin(decisions.loc[decisions["kept"], "id"]))
    tokenizer = vocab.tokenizer(VOCAB)
    network = model.build(cfg.model.pretrained, cfg.model.scratch, cfg.model.config, tokenizer)
    processor = model.processor(tokenizer, network.config, encoded.sample_rate)
    eval_rows = np.random.default_rng(cfg.train.seed).permutation(encoded.rows("test"))[: cfg.train.eval_utterances]
    history = History(HISTORY, steps=["step", "epoch", "loss", "learning_rate"], eval=["step", "epoch", "wer", "cer"])
    summary = fit(network, encoded, train_rows, Evaluator(encoded, np.sort(eval_rows), processor), cfg.train, history)
    history.close()
    network.save_pretrained(OUT)
    processor.save_pretrained(OUT)
    results = {"train_utterances": len(train_rows), "parameters": network.num_parameters(), **summary}
    kept = encoded.index.iloc[train_rows]
    data = {"source": cfg.data.source, "train utterances": len(kept), "train hours": round(kept["seconds"].sum() / 3600, 3),
            "train speakers": kept["speaker"].nunique(), "sample rate": encoded.sample_rate}
    settings = {"model": cfg.model.model_dump(), "train": cfg.train.model_dump(), "filter": cfg.filter.model_dump()}
    (OUT / "README.md").write_text(model_card(str(OUT), data, settings, results, encoded.sample_rate))
    write_json(METRICS, results)
    print(f"train: {summary['steps']} steps on {summary['device']} in {summary['train_seconds']} s -> {OUT}")


if __name__ == "__main__":
    main()
