"""Peak memory and time of `python -m ctc_asr transcribe` with the LM, on a short and a long recording.

    python bench/longform_memory.py                      # 1 and 60 minutes, as in docs/results.md
    python bench/longform_memory.py --minutes 0.5 3      # a smoke run in a minute
    python bench/longform_memory.py --minutes 10 --segment-seconds 1e6   # beam search in one piece, as before

Each recording is transcribed by a fresh `python -m ctc_asr transcribe --format json` under
`/usr/bin/time -v`, which gives its peak resident memory and wall time (model loading included).
The audio: Harvard sentences spoken by eSpeak NG (the synthetic source's engine) at its 22,050 Hz,
0.4 s apart, one minute of it repeated, as 16-bit WAV. The model: the default demo's scratch
architecture (params.yaml) with random weights, its output layer made confident and tilted toward
blank and word delimiter until the LM's transcript of that minute's first seconds has about as
many characters and words as the sentences spoken, so that the beam search holds as much text as
for real speech (both rates are printed); the LM: a word trigram of the Harvard sentences, built
by ctc_asr.decoding.ngram.
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
import torch

from ctc_asr.core import params
from ctc_asr.data import vocab
from ctc_asr.data.sources.espeak import Espeak
from ctc_asr.data.sources.synthetic import load_sentences
from ctc_asr.data.text import normalizer
from ctc_asr.decoding import beam, inference, ngram
from ctc_asr.network import model

RATE = 16000
CONFIDENCE = 4.0  # the spread (standard deviation) of the made-up logits: most frames' best token near 0.9
TILTS = np.arange(0, 4.5, 0.5)  # blank's and delimiter's raise tried, in units of that spread
TUNED_SECONDS = 15  # of the minute, decoded with each pair of tilts


def speech_minute(sentences: list[str]) -> tuple[np.ndarray, int, str]:
    """A minute of eSpeak sentences with pauses between them, as int16 at eSpeak's rate, and the text spoken."""
    engine = Espeak()
    pause = np.zeros(int(0.4 * engine.sample_rate), np.int16)
    parts, spoken = [], []
    for sentence in sentences:
        parts += [engine.synthesize(sentence, 160, 50), pause]
        spoken.append(sentence)
        if sum(map(len, parts)) >= 60 * engine.sample_rate:
            break
    return np.concatenate(parts)[:60 * engine.sample_rate], engine.sample_rate, " ".join(spoken)


def write_recording(path: Path, minute: np.ndarray, rate: int, minutes: float) -> None:
    """`minutes` of `minute` repeated, written a minute at a time."""
    total = round(minutes * 60 * rate)
    with sf.SoundFile(path, "w", rate, 1, subtype="PCM_16") as file:
        for start in range(0, total, len(minute)):
            file.write(minute[:total - start])


def build_model(folder: Path, texts: list[str], minute: np.ndarray, spoken: str) -> None:
    """A random demo-architecture model, made speech-like (see the module's docstring), saved with its LM."""
    vocab_file = folder / "vocab.json"
    vocab_file.write_text(json.dumps(vocab.build(texts, "words")))
    tokenizer = vocab.tokenizer(vocab_file, "words")
    cfg = params.load()
    network = model.build("scratch", dict(cfg.model.scratch), dict(cfg.model.config), tokenizer, seed=0).eval()
    processor = model.processor(tokenizer, network.config, RATE)
    trigram = ngram.estimate([t.split() for t in texts], 3)
    ngram.write_arpa(trigram, folder / ngram.ARPA)
    (folder / ngram.UNIGRAMS).write_text("".join(w + "\n" for w in trigram.words))
    beam_decoder = beam.decoder(processor, folder, alpha=0.5, beta=1.0)

    scores = inference.logits(network, [minute])[0]
    scale = CONFIDENCE / scores.std().item()
    blank, delimiter = tokenizer.pad_token_id, tokenizer.word_delimiter_token_id
    share = TUNED_SECONDS / 60

    def mismatch(tilts: tuple[float, float]) -> float:  # relative error of the LM text's characters and words
        tilted = scores[:round(TUNED_SECONDS * RATE / 320)] * scale
        tilted[:, blank] += tilts[0] * CONFIDENCE
        tilted[:, delimiter] += tilts[1] * CONFIDENCE
        text = " ".join(beam_decoder.decode(tilted.numpy(), beam_width=50).split())
        return abs(len(text) / share / len(spoken) - 1) + abs(len(text.split()) / share / len(spoken.split()) - 1)

    blank_tilt, delimiter_tilt = min(((b, d) for b in TILTS for d in TILTS), key=mismatch)
    with torch.no_grad():
        head = network.lm_head
        head.weight *= scale
        head.bias *= scale
        head.bias[blank] += blank_tilt * CONFIDENCE
        head.bias[delimiter] += delimiter_tilt * CONFIDENCE
    print(f"output layer: logits x {scale:.1f}, blank + {blank_tilt * CONFIDENCE:g}, delimiter + "
          f"{delimiter_tilt * CONFIDENCE:g}; spoken: {len(spoken) / 60:.1f} characters a second, "
          f"{len(spoken.split())} words a minute", flush=True)
    shutil.rmtree(folder / "asr", ignore_errors=True)
    network.save_pretrained(folder / "asr")
    beam.save(folder / "asr", processor, beam_decoder)


def measure(command: list[str], out: Path) -> dict:
    with out.open("w") as stdout:
        done = subprocess.run(["/usr/bin/time", "-v", *command], stdout=stdout, stderr=subprocess.PIPE, text=True)
    if done.returncode:
        sys.exit(f"failed: {' '.join(command)}\n{done.stderr[-3000:]}")
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)[1])
    clock = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", done.stderr)[1]
    seconds = sum(float(part) * 60 ** k for k, part in enumerate(reversed(clock.split(":"))))
    result = json.loads(out.read_text())
    return {"peak_mb": peak_kb / 1024, "wall_s": seconds, "audio_s": result["seconds"], "chars": len(result["text"]),
            "words": len(result["words"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 60], help="recording lengths (default: 1 60)")
    parser.add_argument("--segment-seconds", type=float, help="passed on to transcribe (default: its own)")
    parser.add_argument("--work", type=Path, help="folder for the model and recordings (default: a temporary one)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="longform_memory_"))
    work.mkdir(parents=True, exist_ok=True)
    normalize = normalizer(params.load().normalize)
    texts = [normalize(s) for s in load_sentences("harvard")]
    minute, rate, spoken = speech_minute(texts)
    build_model(work, texts, soxr.resample(minute, rate, RATE).astype(np.float32) / 32768, spoken)
    extra = [] if args.segment_seconds is None else ["--segment-seconds", str(args.segment_seconds)]
    rows = []
    for minutes in args.minutes:
        recording = work / f"{minutes:g}min.wav"
        write_recording(recording, minute, rate, minutes)
        command = [sys.executable, "-m", "ctc_asr", "transcribe", "--model", str(work / "asr"), "--format", "json",
                   *extra, str(recording)]
        rows.append({"minutes": minutes, **measure(command, work / f"{minutes:g}min.json")})
        print(f"{minutes:g} min: {' '.join(command)}", flush=True)
    print(f"\n{'recording':>10}{'peak RSS MB':>13}{'wall s':>9}{'s per audio s':>15}{'chars/s':>9}{'words/min':>11}")
    for r in rows:
        print(f"{r['minutes']:>8g} m{r['peak_mb']:>13.0f}{r['wall_s']:>9.1f}{r['wall_s'] / r['audio_s']:>15.4f}"
              f"{r['chars'] / r['audio_s']:>9.1f}{60 * r['words'] / r['audio_s']:>11.0f}")
    print(f"\nreproduce with: python {' '.join(sys.argv)}  (torch threads: {torch.get_num_threads()}; work folder {work})")


if __name__ == "__main__":
    main()
