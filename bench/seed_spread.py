"""How much WER and CER move when only train.seed changes: the noise a regression gate must allow.

    python bench/seed_spread.py --seeds 0 1 2 3              # the default demo run, 4 seeds
    python bench/seed_spread.py --seeds 0 1 --epochs 2       # a shorter run, same data
    python bench/seed_spread.py --seeds 0 --threads 1        # one seed at another thread count
    python bench/seed_spread.py --seeds 0 1 --precision fp32 # another train.precision

Run `dvc repro filter` first: each seed trains params.yaml's model on the encoded corpus, as
the train stage does (no checkpoints, no in-training history), and scores the whole test
split, as evaluate does. Prints each seed's WER/CER, their mean and standard deviation, and
the gate threshold that spread suggests: two runs of different seeds differ by a standard
deviation of sqrt(2) sigma, so a threshold of 1.645 * sqrt(2) * sigma (one-sided, 95 %) lets
19 of 20 changes that only move the random draws through.
"""

import argparse
import math
import statistics
import sys
import time

import torch

from ctc_asr.core import layout, params, tables
from ctc_asr.data.store import Store
from ctc_asr.data.target import Target
from ctc_asr.decoding.inference import greedy_texts
from ctc_asr.evaluation.scoring import score
from ctc_asr.network import model
from ctc_asr.training.loop import fit, kept_rows


def one_run(cfg: params.Params, store: Store, train_rows, tokenizer, seed: int, epochs: float | None,
            precision: str | None = None) -> dict:
    changes = ({"epochs": epochs} if epochs else {}) | ({"precision": precision} if precision else {})
    train = cfg.train.replace(seed=seed, checkpoint_every=0, **changes)
    network = model.build(cfg.model.pretrained, cfg.model.scratch, cfg.model.config, tokenizer, seed=seed)
    started = time.perf_counter()
    summary = fit(network, store, train_rows, None, train)
    test = store.rows("test")
    hypotheses = greedy_texts(network, model.processor(tokenizer, network.config, store.sample_rate),
                              [store.audio(i) for i in test], cfg.decode.batch_size)
    totals, _ = score(store.index["text"].to_numpy()[test].tolist(), hypotheses)
    return {"seed": seed, "precision": summary["precision"], "wer": totals["wer"], "cer": totals["cer"],
            "final_loss": summary["final_loss"],
            "steps": summary["steps"], "seconds": round(time.perf_counter() - started)}


def spread(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3], help="train.seed values (default: 0 1 2 3)")
    parser.add_argument("--epochs", type=float, help="train this many epochs instead of params.yaml's")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's, one per core)")
    parser.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"], help="train.precision instead of params.yaml's")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg, store = params.load(), Store(layout.ENCODED)
    train_rows = kept_rows(store, tables.read(layout.DECISIONS))
    tokenizer = Target.of(cfg.target, cfg.data.source).tokenizer(layout.VOCAB)
    print(f"{len(store.rows('test'))} test clips; torch threads: {torch.get_num_threads()}", flush=True)
    rows = []
    for seed in args.seeds:
        rows.append(one_run(cfg, store, train_rows, tokenizer, seed, args.epochs, args.precision))
        print(rows[-1], flush=True)
    print(f"\n{'seed':>6}{'WER':>8}{'CER':>8}{'final loss':>12}{'seconds':>9}")
    for r in rows:
        print(f"{r['seed']:>6}{r['wer']:>8.4f}{r['cer']:>8.4f}{r['final_loss']:>12.4f}{r['seconds']:>9}")
    for name in ("wer", "cer"):
        mean, sigma = spread([r[name] for r in rows])
        print(f"{name.upper()}: mean {mean:.4f}, standard deviation {sigma:.4f} over {len(rows)} seeds; "
              f"suggested gate.max_{name}_increase: {1.645 * math.sqrt(2) * sigma:.4f}")
    print(f"\ncommand: python bench/seed_spread.py {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    main()
