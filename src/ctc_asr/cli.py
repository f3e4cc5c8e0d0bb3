"""Command line: python -m ctc_asr transcribe --model DIR FILE..."""

import argparse
import json

import torch
from transformers import Wav2Vec2ForCTC, Wav2Vec2Processor
from transformers.utils import logging as hf_logging

from . import audio
from .errors import UserError, exit_on_user_error
from .model import device
from .recording import Chunking, recording_logits, words_with_times


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ctc_asr", description="Speech recognition with a trained wav2vec2 CTC model.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("transcribe", help="transcribe audio files (any format and rate libsndfile reads)",
                              description="Transcribe audio files; long recordings go in overlapping chunks.")
    run.add_argument("files", nargs="+", metavar="FILE", help="audio files")
    run.add_argument("--model", required=True, metavar="DIR", help="a directory saved by the train stage (models/ctc)")
    run.add_argument("--format", choices=["text", "json"], default="text",
                     help="text: one line per file; json: text and word start/end times (default: text)")
    run.add_argument("--chunk-seconds", type=float, default=20.0, help="length of each chunk (default: 20)")
    run.add_argument("--overlap-seconds", type=float, default=2.0, help="overlap of neighbouring chunks (default: 2)")
    run.add_argument("--batch-size", type=int, default=8, help="chunks per forward pass (default: 8)")
    return parser


def _load_model(folder: str) -> tuple[Wav2Vec2ForCTC, Wav2Vec2Processor]:
    hf_logging.disable_progress_bar()  # stdout and stderr carry transcripts and errors only
    try:
        return Wav2Vec2ForCTC.from_pretrained(folder).to(device()), Wav2Vec2Processor.from_pretrained(folder)
    except OSError as error:
        raise UserError(f"{folder}: not a model directory ({str(error).strip().splitlines()[0]})") from None


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.chunk_seconds <= 0 or args.overlap_seconds < 0 or args.batch_size < 1:
        raise UserError("--chunk-seconds must be > 0, --overlap-seconds >= 0 and --batch-size >= 1")
    for path in args.files:
        audio.probe(path)  # a bad file stops us before the model is loaded, not after hours of work
    network, processor = _load_model(args.model)
    rate = processor.feature_extractor.sampling_rate
    chunking = Chunking.of(network, rate, args.chunk_seconds, args.overlap_seconds)
    for path in args.files:
        samples = audio.load(path, rate)
        with torch.inference_mode():
            text, words = words_with_times(network, processor, recording_logits(network, samples, chunking, args.batch_size), rate)
        if args.format == "json":
            line = json.dumps({"file": path, "seconds": round(len(samples) / rate, 3), "text": text, "words": words},
                              ensure_ascii=False)
        else:
            line = text if len(args.files) == 1 else f"{path}\t{text}"
        print(line, flush=True)

