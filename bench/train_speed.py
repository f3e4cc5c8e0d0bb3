"""Training throughput: the seed notebook's recipe (HF Trainer) against this project's train path.

    python bench/train_speed.py                  # wav2vec2-base architecture, random weights, 4,620 clips
    python bench/train_speed.py --compile        # adds a row: ours with train.compile
    python bench/train_speed.py --profile        # and the time per op (CUDA kernels on a GPU), warm-up excluded
    python bench/train_speed.py --learning 10    # instead: WER at equal epochs on the embedded corpus
    python bench/train_speed.py --config tiny    # CPU smoke test: a tiny model, under a minute

Both recipes run in this process, on the same device, on the same clips: random audio and
random labels (~14 characters a second) with TIMIT's length distribution (as modelled by
ctc_asr.data.sources.timit.modelled_seconds), already normalised, as the notebook's map() left them.
  (a) seed: HF Trainer, batch 32, group_by_length, fp16 (GPU only), gradient checkpointing,
      frozen feature encoder, rows in Python-list format padded by the notebook's collator;
  (b) ours: ctc_asr.training.loop.fit with params.yaml's train section under presets/timit-tuned.yaml
      (100 s batches, 4 workers, frozen encoder), and again with 256 s batches: bf16 autocast
      where the GPU has it, fused AdamW, exact padded batches built by data-loader workers,
      SpecAugment masks drawn there, no host waits in the step, the frozen encoder's output
      computed once before the first epoch.
The GPU is synchronised at both ends of each timing. (a) is timed over its steps 6-30: it pads
each batch to its longest clip, so its batch shapes seldom repeat and later steps pay the same
per-shape costs (cuDNN plans). (b) pads to multiples of 0.25 s and is timed over its second
epoch, when each of its shapes has been seen once.

Model FLOPs utilisation (MFU) = model FLOPs per second / the peak this device reached in a
large matrix product measured here (bf16 on a GPU, fp32 on a CPU). Model FLOPs are counted
on each clip's real length, 2 per multiply-add of every convolution and matrix product
(`forward_flops`); a training step costs 3x the forward FLOPs of the trained parts and 1x
those of the frozen conv encoder, or, where (b) computes it once a run, 1/30 (the preset's
epochs). Padding and recomputation (gradient checkpointing) count nothing. (b)'s time
includes that one-time computation's share of an epoch, 1/30 of it; its untimed first epoch
(features, cuDNN plans, torch.compile's warm-up) is printed apart.

--learning N trains the demo model of params.yaml on the embedded corpus (run `dvc repro
filter` first) for N epochs in fp32 (the arithmetic of the train path before mixed
precision) and, where they differ (on a GPU), with the defaults, and prints held-out WER/CER
at the same epochs.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from eval_batching import timit_like_clips
from transformers import Trainer, TrainerCallback, TrainingArguments, Wav2Vec2Config, Wav2Vec2ForCTC

from ctc_asr.core import layout, params, presets, tables
from ctc_asr.data.store import Store, Writer
from ctc_asr.data.target import Target
from ctc_asr.network import model
from ctc_asr.network.batches import standardize
from ctc_asr.training import precision
from ctc_asr.training.loop import DevMonitor, dev_rows, fit, kept_rows, plan_epochs

RATE, VOCAB = 16000, 32
CONFIGS = {
    "base": {},  # Wav2Vec2Config() is wav2vec2-base: 95 M parameters, group norm, 12 layers x 768
    "tiny": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128, conv_dim=[32] * 7),
}
SIZES = {"base": dict(clips=4620, warmup=5, steps=30), "tiny": dict(clips=256, warmup=2, steps=6)}
# (b)'s changes to the preset per config: the smoke test builds batches in its own process, since
# starting 4 data-loader processes would take longer than its whole run
OURS = {"base": {}, "tiny": dict(workers=0)}
OUR_EPOCHS = 2  # ours is timed over its second epoch: by then each of its bucketed batch shapes has been seen
SEED_BATCH = 32
PROJECT = Path(__file__).resolve().parents[1]


def tuned_train_params():
    """params.yaml's train section with presets/timit-tuned.yaml applied (batch, workers, frozen encoder, ...)."""
    return presets.load(PROJECT / "presets/timit-tuned.yaml", PROJECT / "params.yaml",
                        {"data": {"timit": {"root": "unused"}}}).train


def forward_flops(config: Wav2Vec2Config, samples: int) -> tuple[float, float]:
    """Forward FLOPs of one clip: (conv feature encoder, the rest)."""
    conv, length, channels = 0.0, samples, 1
    for dim, kernel, stride in zip(config.conv_dim, config.conv_kernel, config.conv_stride):
        length = (length - kernel) // stride + 1
        conv += 2 * channels * dim * kernel * length
        channels = dim
    frames, hidden = length, config.hidden_size
    rest = 2 * channels * hidden * frames  # feature projection
    # positional conv embedding; an even kernel gives one extra frame, dropped afterwards
    kernel = config.num_conv_pos_embeddings
    rest += 2 * hidden * hidden // config.num_conv_pos_embedding_groups * kernel * (frames + 1 - kernel % 2)
    per_layer = 2 * 4 * hidden**2 * frames + 2 * 2 * frames**2 * hidden + 2 * 2 * hidden * config.intermediate_size * frames
    rest += config.num_hidden_layers * per_layer + 2 * hidden * config.vocab_size * frames  # layers, CTC head
    return conv, rest


def training_flops(config: Wav2Vec2Config, lengths, conv_passes: float) -> float:
    """FLOPs of training on clips of `lengths`: the rest forward and backward (3 passes), the conv
    encoder `conv_passes` times (3 trainable, 1 frozen, 1/epochs when its output is cached)."""
    total = 0.0
    for samples in lengths:
        conv, rest = forward_flops(config, int(samples))
        total += conv_passes * conv + 3 * rest
    return total


def synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def peak_flops() -> tuple[float, str]:
    """FLOP/s of a large matrix product on this device: the MFU denominator."""
    on, dtype, n = (("cuda", torch.bfloat16, 8192) if torch.cuda.is_available() else ("cpu", torch.float32, 2048))
    a, b = (torch.randn(n, n, device=on, dtype=dtype) for _ in range(2))
    for _ in range(3):
        a @ b
    synchronize()
    start, repeats = time.perf_counter(), 20 if on == "cuda" else 3
    for _ in range(repeats):
        a @ b
    synchronize()
    return 2 * n**3 * repeats / (time.perf_counter() - start), f"{n}x{n}x{n} {str(dtype).split('.')[1]} matmul"


def corpus(count: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(0)
    clips = [standardize(c).astype(np.float32) for c in timit_like_clips(count, rng, RATE)]
    labels = [rng.integers(1, VOCAB, max(1, int(len(c) / RATE * 14)), dtype=np.int32) for c in clips]
    return clips, labels


def architecture(name: str) -> Wav2Vec2Config:
    return Wav2Vec2Config(**CONFIGS[name], vocab_size=VOCAB, pad_token_id=0, ctc_loss_reduction="mean",
                          ctc_zero_infinity=True)


class Clock(TrainerCallback):
    """Step end times for the Trainer; `log` does the same for fit's history (called at log steps).

    With `profile` = (first, last), the PyTorch profiler records the steps after `first` up to `last`.
    """

    def __init__(self, profile: tuple[int, int] | None = None):
        self.times: dict[int, float] = {}
        self.profile, self.profiler = profile, None

    def mark(self, step: int) -> None:
        synchronize()
        self.times[step] = time.perf_counter()
        if self.profile and step == self.profile[0]:
            activities = [torch.profiler.ProfilerActivity.CPU] + (
                [torch.profiler.ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
            self.profiler = torch.profiler.profile(activities=activities)
            self.profiler.__enter__()
        elif self.profiler and step == self.profile[1]:
            self.profiler.__exit__(None, None, None)

    def on_step_end(self, args, state, control, **kwargs):
        self.mark(state.global_step)

    def log(self, name: str, step: int, **values) -> None:
        if name == "steps":
            self.mark(step)

    def kernel_table(self, rows: int = 15) -> str:
        """Self time per op over the profiled steps: on the GPU its kernels' time, on a CPU the host's."""
        on = "self_cuda_time_total" if torch.cuda.is_available() else "self_cpu_time_total"
        return self.profiler.key_averages().table(sort_by=on, row_limit=rows)


def notebook_collator(processor):
    """The seed notebook's DataCollatorCTCWithPadding; it also notes each batch's clip lengths."""
    batches = []

    def collate(features):
        batches.append([len(f["input_values"]) for f in features])
        batch = processor.feature_extractor.pad([{"input_values": f["input_values"]} for f in features],
                                                padding=True, return_tensors="pt")
        labels = processor.tokenizer.pad([{"input_ids": f["labels"]} for f in features], padding=True,
                                         return_tensors="pt")
        batch["labels"] = labels["input_ids"].masked_fill(labels.attention_mask.ne(1), -100)
        return batch

    return collate, batches


def seed_recipe(config, clips, labels, size, workdir: Path, profile: bool = False) -> dict:
    from datasets import Dataset
    from transformers import Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor, Wav2Vec2Processor

    vocab_file = workdir / "vocab.json"
    vocab_file.write_text(json.dumps({"[PAD]": 0, "[UNK]": 1, **{f"c{i}": i for i in range(2, VOCAB)}}))
    processor = Wav2Vec2Processor(  # as the notebook built it for wav2vec2-base: no attention mask
        feature_extractor=Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=RATE, padding_value=0.0,
                                                   do_normalize=True, return_attention_mask=False),
        tokenizer=Wav2Vec2CTCTokenizer(str(vocab_file)))
    data = Dataset.from_dict({"input_values": clips, "labels": labels, "input_length": [len(c) for c in clips]})
    torch.manual_seed(0)
    network = Wav2Vec2ForCTC(config)
    network.freeze_feature_encoder()
    cuda = torch.cuda.is_available()
    grouping = ({"train_sampling_strategy": "group_by_length"}
                if "train_sampling_strategy" in TrainingArguments.__dataclass_fields__ else {"group_by_length": True})
    arguments = TrainingArguments(
        output_dir=str(workdir / "trainer"), per_device_train_batch_size=SEED_BATCH,
        # lengths from a column (the notebook's Trainer read every row to find them: a one-off cost left out)
        length_column_name="input_length", remove_unused_columns=False,
        fp16=cuda, gradient_checkpointing=True, learning_rate=1e-4, weight_decay=0.005, warmup_steps=2,
        max_steps=size["steps"], save_strategy="no", report_to="none", logging_steps=10**6, seed=0,
        use_cpu=not cuda, disable_tqdm=True, **grouping)
    collate, batches = notebook_collator(processor)
    clock = Clock((size["warmup"], size["steps"]) if profile else None)
    Trainer(model=network, args=arguments, train_dataset=data, data_collator=collate, callbacks=[clock]).train()
    # batches are collated in step order (the loader may run one ahead, which changes when, not which)
    timed = [np.array(b) for b in batches[size["warmup"]:size["steps"]]]
    return {"seconds": clock.times[size["steps"]] - clock.times[size["warmup"]], "steps": len(timed),
            "clips": sum(len(t) for t in timed), "audio_seconds": sum(t.sum() for t in timed) / RATE,
            "flops": training_flops(config, np.concatenate(timed), conv_passes=1), **kernels(clock)}


def write_store(clips, labels, folder: Path) -> Store:
    with Writer(folder, RATE) as writer:
        for k, (clip, label) in enumerate(zip(clips, labels)):
            writer.add({"id": f"utt{k}", "split": "train"}, clip, label)
    return Store(folder)


def kernels(clock: Clock) -> dict:
    return {"kernels": clock.kernel_table()} if clock.profiler else {}


def our_recipe(config, store: Store, profile: bool = False, **changes) -> dict:
    """Ours, timed over its second epoch. A frozen encoder's features are computed once a run: their
    time counts as its share of one epoch of the preset's run (1/30 for TIMIT's 30 epochs)."""
    rows = store.rows("train")
    lengths = store.index["audio_length"].to_numpy()
    preset_epochs = tuned_train_params().epochs
    tuned = tuned_train_params().replace(epochs=OUR_EPOCHS, warmup_steps=2, eval_every=10**9, checkpoint_every=0, **changes)
    plan = plan_epochs(lengths, tuned, RATE)
    first_epoch = sum(epoch <= OUR_EPOCHS - 1 for epoch, _ in plan)
    cfg = tuned.replace(log_every=first_epoch)  # the clock reads at both ends
    torch.manual_seed(0)
    network = Wav2Vec2ForCTC(config)
    clock = Clock((first_epoch, len(plan)) if profile else None)
    summary = fit(network, store, rows, None, cfg, clock)
    timed = [lengths[positions] for _, positions in plan[first_epoch:]]
    cache_share = summary["timing"]["feature_cache_seconds"] / preset_epochs
    timed_seconds = clock.times[len(plan)] - clock.times[first_epoch]
    return {"seconds": timed_seconds + cache_share, "steps": len(timed), "feature_cache_share_seconds": cache_share,
            # the untimed first epoch: the features' cost, cuDNN's plans, torch.compile's warm-up
            "first_epoch_seconds": summary["timing"]["train_seconds"] - timed_seconds,
            "clips": sum(len(t) for t in timed), "audio_seconds": sum(t.sum() for t in timed) / RATE,
            "flops": training_flops(config, np.concatenate(timed),
                                    1 / preset_epochs if cfg.freeze_feature_encoder else 3),
            "precision": summary["precision"], "parameters": network.num_parameters(), **kernels(clock)}


def speed(args) -> None:
    size = dict(SIZES[args.config], **{k: v for k, v in (("clips", args.clips), ("steps", args.steps)) if v})
    config = architecture(args.config)
    peak, peak_how = peak_flops()
    clips, labels = corpus(size["clips"])
    rows = {}
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        recipes = [("(a) seed recipe", lambda: seed_recipe(config, clips, labels, size, workdir, args.profile))]
        store = write_store(clips, labels, workdir / "store")
        ours = {**OURS[args.config], "profile": args.profile}
        recipes.append(("(b) ours", lambda: our_recipe(config, store, **ours)))
        if args.config == "base":  # a GPU-sized batch: what a larger batch gives over the seed's ~100 s a step
            recipes.append(("(b) ours, 256 s batches", lambda: our_recipe(config, store, **ours, batch_seconds=256)))
        if args.compile:
            recipes.append(("(b) ours + compile", lambda: our_recipe(config, store, **ours, compile=True)))
        for name, run in recipes:
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats()
            rows[name] = run()
            rows[name]["peak_memory_gb"] = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None
            table = rows[name].pop("kernels", None)
            print(f"{name}: {json.dumps(rows[name], default=float)}", flush=True)
            if table:
                print(f"{name}, self time per op over the timed steps (profiler on: its figures include its "
                      f"overhead)\n{table}", flush=True)
    report(rows, size, peak, peak_how, args)


def report(rows: dict, size, peak: float, peak_how: str, args) -> None:
    name = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} threads"
    print(f"\ndevice: {name}; model: {args.config} ({rows['(b) ours']['parameters'] / 1e6:.1f} M "
          f"parameters); {size['clips']} TIMIT-like clips; (a) timed over steps {size['warmup'] + 1}-{size['steps']}, "
          f"(b) over its epoch {OUR_EPOCHS}")
    print(f"peak: {peak / 1e12:.1f} TFLOP/s ({peak_how}, measured here)")
    print(f"{'recipe':<26}{'samples/s':>10}{'audio s/s':>11}{'TFLOP/s':>9}{'MFU':>7}{'peak GiB':>10}"
          f"{'epoch 1 s':>11}")
    for label, r in rows.items():
        memory = f"{r['peak_memory_gb']:.1f}" if r["peak_memory_gb"] is not None else "-"
        first = f"{r['first_epoch_seconds']:.1f}" if "first_epoch_seconds" in r else "-"
        tflops = r["flops"] / r["seconds"]
        print(f"{label:<26}{r['clips'] / r['seconds']:>10.1f}{r['audio_seconds'] / r['seconds']:>11.1f}"
              f"{tflops / 1e12:>9.2f}{tflops / peak:>7.1%}{memory:>10}{first:>11}")
    seed, ours = rows["(a) seed recipe"], rows["(b) ours"]
    print(f"b/a: {(ours['audio_seconds'] / ours['seconds']) / (seed['audio_seconds'] / seed['seconds']):.2f}x "
          f"in audio seconds per second, {(ours['clips'] / ours['seconds']) / (seed['clips'] / seed['seconds']):.2f}x "
          f"in samples per second")
    if args.out:
        Path(args.out).write_text(json.dumps({"device": name, "peak_flops": peak, "rows": rows}, indent=1, default=float))


class EvalRecorder:
    """Keeps fit's held-out records, printing each as it comes."""

    def __init__(self, label: str):
        self.label, self.evals = label, []

    def log(self, name: str, **values) -> None:
        if name == "eval":
            self.evals.append(values)
            print(f"{self.label}: {values}", flush=True)


def learning(epochs: float) -> None:
    """WER/CER at equal epochs on the embedded corpus: fp32 against the defaults (one run where the
    defaults are fp32, as on a CPU)."""
    cfg = params.load()
    store = Store(layout.ENCODED)
    rows = kept_rows(store, tables.read(layout.DECISIONS))
    tokenizer = Target.of(cfg.target, cfg.data.source).tokenizer(layout.VOCAB)
    eval_rows = dev_rows(store, cfg.train.eval_utterances, cfg.train.seed)
    results = {}
    same = precision.autocast_dtype(cfg.train.precision, model.device()) is None
    for label, changes in (("fp32", {"precision": "fp32"}),) + (() if same else (("defaults", {}),)):
        network = model.build(cfg.model.pretrained, cfg.model.scratch, cfg.model.config, tokenizer, seed=cfg.train.seed)
        dev_monitor = DevMonitor(store, eval_rows, model.processor(tokenizer, network.config, store.sample_rate))
        recorder = EvalRecorder(label)
        train = cfg.train.replace(epochs=epochs, checkpoint_every=0, **changes)
        summary = fit(network, store, rows, dev_monitor, train, recorder)
        results[f"{label} ({summary['precision']})"] = (recorder.evals, summary)
    print(f"\nembedded corpus, {len(rows)} training clips, {epochs} epochs; WER / CER on {len(eval_rows)} dev clips")
    labels = list(results)
    print(f"{'epoch':>7}" + "".join(f"{name:>26}" for name in labels))
    for k, record in enumerate(results[labels[0]][0]):
        cells = [results[name][0][k] for name in labels]
        print(f"{record['epoch']:>7.2f}" + "".join(f"{c['wer']:>14.3f} / {c['cer']:<9.3f}" for c in cells))
    for name in labels:
        summary = results[name][1]
        print(f"{name}: {summary['timing']['train_seconds']} s, {summary['timing']['audio_seconds_per_second']} audio s/s, "
              f"final loss {summary['final_loss']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", choices=CONFIGS, default="base")
    parser.add_argument("--clips", type=int, help="corpus size (default: 4620 for base, 256 for tiny)")
    parser.add_argument("--steps", type=int, help="steps of the seed recipe, warm-up included")
    parser.add_argument("--compile", action="store_true", help="also time ours with train.compile")
    parser.add_argument("--profile", action="store_true",
                        help="print each recipe's self time per op (CUDA kernels on a GPU) over its timed steps")
    parser.add_argument("--learning", type=float, metavar="EPOCHS",
                        help="instead of timing: compare learning on the embedded corpus over EPOCHS epochs")
    parser.add_argument("--out", help="write the speed figures to this JSON file")
    args = parser.parse_args()
    learning(args.learning) if args.learning else speed(args)
    print(f"\ncommand: python bench/train_speed.py {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    main()
