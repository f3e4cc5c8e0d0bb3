"""Command line: python -m ctc_asr transcribe | gate | preset | explore (see --help of each)."""

import argparse
import contextlib
import ctypes
import json
import sys
from pathlib import Path

import yaml

from ctc_asr.core import layout, params, presets
from ctc_asr.core.errors import UserError, exit_on_user_error, require_regular_file
from ctc_asr.data import audio
from ctc_asr.evaluation import gate

# transcribe's chunking unless told otherwise (bench/eval_batching.py times these)
CHUNK_SECONDS, OVERLAP_SECONDS, CHUNKS_PER_BATCH = 20.0, 2.0, 8
# Beam search's longest piece: long enough that few words lose their LM context at a cut, short enough
# for a small beam-search cache (bench/longform_memory.py measures memory and time).
SEGMENT_SECONDS = 30.0

GATED = {"wer": "max_wer_increase", "cer": "max_cer_increase", "per": "max_per_increase"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ctc_asr",
                                     description="ctc_asr: transcribe audio with a trained model, gate a change "
                                                 "on its error rates, apply a params preset, explore the test results.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("transcribe", help="transcribe audio files (any format and rate libsndfile reads)",
                              description="Transcribe audio files; long recordings go in overlapping chunks and are "
                                          "decoded in segments, in memory that does not grow with them.")
    run.add_argument("files", nargs="+", metavar="FILE", help="audio files")
    run.add_argument("--model", required=True, metavar="DIR",
                     help="a model directory: models/asr (with the LM, when there is one) or models/ctc")
    run.add_argument("--no-lm", action="store_true", help="decode greedily even when the folder has a language model")
    run.add_argument("--beam-width", type=int, help="beam width of LM decoding (default: the one the model folder was "
                                                    "tuned with)")
    run.add_argument("--format", choices=["text", "json"], default="text",
                     help="text: one line per file; json: JSON Lines, one object per file with its text and word "
                          "start/end times (default: text)")
    run.add_argument("--chunk-seconds", type=float, default=CHUNK_SECONDS,
                     help="length of each chunk (default: %(default)s)")
    run.add_argument("--overlap-seconds", type=float, default=OVERLAP_SECONDS,
                     help="overlap of neighbouring chunks (default: %(default)s)")
    run.add_argument("--batch-size", type=int, default=CHUNKS_PER_BATCH,
                     help="chunks per forward pass (default: %(default)s)")
    run.add_argument("--segment-seconds", type=float, default=SEGMENT_SECONDS,
                     help="decode in segments of at most this length, cut at pauses, so that memory does not grow "
                          "with the recording (default: %(default)s)")
    check = commands.add_parser("gate", help="fail when WER or CER rose since a git ref",
                                description="Compare the workspace's metrics with those committed at REF; exit 1 when "
                                            "WER or CER rose by more than params.yaml's gate section allows (CER "
                                            "alone where evaluate made it the headline rate).")
    check.add_argument("ref", nargs="?", default="HEAD", help="a commit, branch or tag (default: HEAD)")
    check.add_argument("--metrics", default=str(layout.Evaluated.PATH), help="the metrics file (default: %(default)s)")
    preset = commands.add_parser("preset", help="merge a preset (and key=value settings) into params.yaml",
                                 description="Write a preset's values into params.yaml, keeping its comments; "
                                             "then run dvc repro or dvc exp run.")
    preset.add_argument("preset", type=Path, help="a params file holding only overrides, e.g. presets/timit-seed.yaml")
    preset.add_argument("settings", nargs="*", metavar="KEY=VALUE", help="more overrides, e.g. data.timit.root=/corpora/TIMIT")
    preset.add_argument("--params", type=Path, default=Path("params.yaml"), help="the file to update (default: params.yaml)")
    explore = commands.add_parser("explore", help="a local web page over the test results: listen, align, compare",
                                  description="Serve a read-only page over the workspace's test results (summary, "
                                              "every utterance with its audio and aligned hypotheses, frequent "
                                              "errors), optionally compared with another revision; prints its URL.")
    explore.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s, this machine only)")
    explore.add_argument("--port", type=int, default=0, help="port (default: 0, a free one)")
    explore.add_argument("--compare", metavar="REV",
                         help="a git revision or DVC experiment name (`dvc exp show` lists them) to compare with")
    return parser


def transcribe(args: argparse.Namespace) -> None:
    import torch  # the heavy imports only for the command that needs them

    from ctc_asr.decoding import recogniser
    from ctc_asr.decoding.longform import Chunking, streamed_logits, words_with_times

    if (args.chunk_seconds <= 0 or args.overlap_seconds < 0 or args.batch_size < 1 or (args.beam_width or 1) < 1
            or args.segment_seconds <= 0):
        raise UserError("--chunk-seconds and --segment-seconds must be > 0, --overlap-seconds >= 0, --batch-size "
                        "and --beam-width >= 1")
    readable = [path for path in args.files if _readable(path)]  # checked before the model loads, not hours later
    if not readable:
        sys.exit(2)
    _fix_mmap_threshold()
    model = recogniser.load(args.model, with_lm=not args.no_lm)
    model.beam_width = args.beam_width or model.beam_width
    rate = model.processor.feature_extractor.sampling_rate
    chunking = Chunking.of(model.network, rate, args.chunk_seconds, args.overlap_seconds)
    failed = len(args.files) - len(readable)
    for path in readable:
        try:
            blocks = _Counted(audio.stream(path, rate))
            with torch.inference_mode():
                text, words = words_with_times(model, streamed_logits(model.network, blocks, chunking, args.batch_size),
                                               rate, args.segment_seconds)
        except UserError as error:  # a file that probed well but fails part way: report it, go on with the rest
            print(f"error: {error}", file=sys.stderr)
            failed += 1
            continue
        if args.format == "json":
            line = json.dumps({"file": path, "seconds": round(blocks.samples / rate, 3), "text": text, "words": words},
                              ensure_ascii=False)
        else:
            line = text if len(args.files) == 1 else f"{path}\t{text}"
        print(line, flush=True)
    if failed:
        print(f"transcribe: {failed} of {len(args.files)} files could not be read", file=sys.stderr)
        sys.exit(2)


def _readable(path: str) -> bool:
    """Whether `path` is an audio file libsndfile reads; when not, says why on stderr."""
    try:
        require_regular_file(path)  # probe would call a folder or a device "missing"
        audio.probe(path)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return False
    return True


def _fix_mmap_threshold(size: int = 2**20) -> None:
    """glibc raises its mmap threshold whenever a large block is freed; each batch's large blocks then come
    from the heap and fragment it, and the peak grew with the recording (675 MB for 3 minutes, 958 MB for
    60: docs/results.md). A threshold set by mallopt stays put: they go back to the system."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: another allocator
        ctypes.CDLL("libc.so.6").mallopt(-3, size)  # -3: M_MMAP_THRESHOLD


class _Counted:
    """Blocks of samples passed through, counted: the recording's length once they are all read."""

    def __init__(self, blocks):
        self.blocks, self.samples = blocks, 0

    def __iter__(self):
        for block in self.blocks:
            self.samples += len(block)
            yield block


def check_gate(args: argparse.Namespace) -> None:
    limits = params.load().gate
    old, new = gate.metrics_at(args.ref, args.metrics), gate.metrics_here(args.metrics)
    names = gate.gated_rates(new)
    print(gate.table(old, new, names, args.ref))
    problems = gate.regressions(old, new, {name: getattr(limits, GATED[name]) for name in names})
    for problem in problems:
        print(f"gate: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"gate: passed ({' and '.join(n.upper() for n in names)} against {args.ref} within "
          f"{' / '.join(f'+{getattr(limits, GATED[n])}' for n in names)})")


def apply_preset(args: argparse.Namespace) -> None:
    overrides = {}
    for setting in args.settings:
        key, equals, value = setting.partition("=")
        if not equals or not key:
            raise UserError(f"{setting}: expected KEY=VALUE, e.g. data.timit.root=/corpora/TIMIT")
        *parents, leaf = key.split(".")
        node = overrides
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    changed = presets.apply(args.preset, args.params, overrides)
    print(f"preset: {args.preset} -> {args.params} ({len(changed)} values set: {', '.join(changed)})")


def explore(args: argparse.Namespace) -> None:
    from ctc_asr.explorer import app, server

    server.serve(app.Explorer.open(Path("."), args.compare), args.host, args.port)


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    {"transcribe": transcribe, "gate": check_gate, "preset": apply_preset, "explore": explore}[args.command](args)
