"""train: fit Wav2Vec2ForCTC (CUDA when present) and save a directory HF loads as it is.

With train.gpus > 1 the stage runs itself again under torchrun, one process per GPU.
With train.nodes > 1 it trains with other machines met at $CTC_ASR_RENDEZVOUS (host:port
of this machine, see docs/gpus.md); each of them runs `PYTHONPATH=src python
stages/train.py --follow`, which trains and writes nothing: the outputs are this machine's.
A rerun after a kill resumes from models/checkpoint (not a DVC output: DVC leaves it where it is).
"""

import sys
from pathlib import Path

import yaml

from ctc_asr.core import layout, params, tables
from ctc_asr.core.errors import exit_on_user_error
from ctc_asr.core.outputs import clear, replacing, write_json
from ctc_asr.data.store import Store
from ctc_asr.data.target import Target
from ctc_asr.network import model
from ctc_asr.training import distributed
from ctc_asr.training.checkpoint import Checkpoints
from ctc_asr.training.history import History
from ctc_asr.training.loop import DevMonitor, dev_rows, fit, kept_rows, run_key

ENCODED, DECISIONS, VOCAB = layout.ENCODED, layout.DECISIONS, layout.VOCAB
OUT, CHECKPOINT, HISTORY, TIMING = layout.TRAINED, layout.CHECKPOINT, layout.TRAIN_HISTORY, layout.timing("train")


@exit_on_user_error
def main() -> None:
    cfg, follow = params.load(), "--follow" in sys.argv[1:]
    if (cfg.train.gpus > 1 or cfg.train.nodes > 1 or follow) and not distributed.launched():
        sys.exit(distributed.relaunch(cfg.train.gpus, __file__, cfg.train.nodes, follow))
    ranks = distributed.join()
    if ranks.main:
        warn_of_untracked_folders(cfg.augment)
    encoded = Store(ENCODED)
    train_rows = kept_rows(encoded, tables.read(DECISIONS))
    eval_rows = dev_rows(encoded, cfg.train.eval_utterances, cfg.train.seed)
    tokenizer = Target.of(cfg.target, cfg.data.source).tokenizer(VOCAB)
    network = model.build(cfg.model.pretrained, cfg.model.scratch, cfg.model.config, tokenizer, seed=cfg.train.seed)
    processor = model.processor(tokenizer, network.config, encoded.sample_rate)
    history = dev_monitor = checkpoints = None
    if ranks.main:  # the lead writes everything, the others nothing (not even the checkpoint folder)
        checkpoints = Checkpoints(CHECKPOINT, run_key(cfg.model, cfg.train, VOCAB.read_text(), encoded, train_rows, eval_rows,
                                                      cfg.augment))
        history = History(HISTORY, steps=["step", "epoch", "loss", "learning_rate"], eval=["step", "epoch", "wer", "cer"])
        dev_monitor = DevMonitor(encoded, eval_rows, processor)
    summary = fit(network, encoded, train_rows, dev_monitor, cfg.train, history, checkpoints, cfg.augment)
    timing = summary.pop("timing")
    if not ranks.main:
        return
    history.close()
    clear(OUT, TIMING)
    with replacing(OUT) as folder:
        network.save_pretrained(folder)
        model.save_processor(processor, folder)
    checkpoints.clear()  # the run is complete: a forced rerun starts over
    layout.Trained(train_utterances=len(train_rows), parameters=network.num_parameters(), **summary).write()
    write_json(TIMING, timing)
    print(f"train: {summary['steps']} steps on {summary['device']} ({summary['precision']}, "
          f"{summary['processes']} process(es)) in {timing['train_seconds']} s -> {OUT}")


def warn_of_untracked_folders(augment: params.AugmentParams) -> None:
    """Say so when a folder of noise or impulse responses that augmentation reads is not among train's deps in
    dvc.yaml: DVC would not rerun train when its files change (the folder is the user's, so dvc.yaml cannot list it)."""
    stage = yaml.safe_load(Path("dvc.yaml").read_text())["stages"]["train"] if Path("dvc.yaml").is_file() else {}
    listed = {Path(dep).resolve() for dep in stage.get("deps", [])}
    for key, kind in (("augment.noise.folder", augment.noise), ("augment.reverb.folder", augment.reverb)):
        if kind.enabled and kind.folder and Path(kind.folder).resolve() not in listed:
            print(f"train: warning: {key} ({kind.folder}) is not among train's deps in dvc.yaml, so a change to its "
                  "files will not rerun train: add it there (docs/experiments.md)", file=sys.stderr)


if __name__ == "__main__":
    main()
