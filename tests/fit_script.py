"""Train a tiny model on a fabricated corpus in a process of its own (tests that kill it or run torchrun).

python tests/fit_script.py FOLDER SETTINGS_JSON [--follow]: FOLDER holds store/ and vocab.json
(see test_train_runs.py), SETTINGS_JSON changes params.yaml's train section; the lead process
writes FOLDER/<name>/summary.json, weights.pt, history and checkpoint there. --follow: join a
run of train.nodes > 1 as stages/train.py --follow does, writing nothing.
"""

import json
import sys
from pathlib import Path

import torch

from ctc_asr.core import params
from ctc_asr.data import vocab
from ctc_asr.data.store import Store
from ctc_asr.network import model
from ctc_asr.training import distributed
from ctc_asr.training.checkpoint import Checkpoints
from ctc_asr.training.history import History
from ctc_asr.training.loop import DevMonitor, fit

TINY = dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, conv_dim=[8] * 7,
            num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2, feat_extract_norm="group",
            do_stable_layer_norm=True, hidden_dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
            feat_proj_dropout=0.0, final_dropout=0.0, layerdrop=0.0)


def main() -> None:
    folder, settings, follow = Path(sys.argv[1]), json.loads(sys.argv[2]), "--follow" in sys.argv[3:]
    name, mask = settings.pop("name"), settings.pop("mask_time_prob", 0.0)
    cfg = params.load(Path(__file__).resolve().parents[1] / "params.yaml").train.replace(**settings)
    if (cfg.gpus > 1 or cfg.nodes > 1) and not distributed.launched():
        sys.exit(distributed.relaunch(cfg.gpus, __file__, cfg.nodes, follow))
    ranks = distributed.join()
    torch.set_num_threads(1)
    store, tokenizer = Store(folder / "store"), vocab.tokenizer(folder / "vocab.json", "words")
    torch.manual_seed(0)
    network = model.build("scratch", {**TINY, "mask_time_prob": mask}, {"ctc_zero_infinity": True}, tokenizer, seed=0)
    out = folder / name
    history = History(out, steps=["step", "epoch", "loss", "learning_rate"], eval=["step", "epoch", "wer", "cer"]) \
        if ranks.main else None
    dev_monitor = DevMonitor(store, store.rows("test"), model.processor(tokenizer, network.config, 16000)) \
        if ranks.main else None
    checkpoints = Checkpoints(out / "checkpoint", "k") if ranks.main else None
    summary = fit(network, store, store.rows("train"), dev_monitor, cfg, history, checkpoints)
    if ranks.main:
        history.close()
        torch.save(network.state_dict(), out / "weights.pt")
        (out / "summary.json").write_text(json.dumps({**summary, "rank": ranks.rank}))


if __name__ == "__main__":
    main()
