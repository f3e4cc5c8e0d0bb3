"""encode: decode every clip to mono samples at encode.sample_rate (int16 or float32) and its transcript to label ids.

Clips are decoded and resampled on encode.workers processes and written in manifest order,
so the store is byte-for-byte the same for any number of workers.
Every clip is kept whatever its characters: a dev or test transcript with characters the
vocabulary lacks is scored as it is (the model cannot emit them: they count as errors).
"""

import json
from functools import partial
from pathlib import Path

from tqdm import tqdm

from ctc_asr.core import params
from ctc_asr.core.errors import exit_on_user_error
from ctc_asr.core.outputs import clear, replacing, write_json
from ctc_asr.core.parallel import ordered_map, worker_count
from ctc_asr.data import audio, corpus, store, vocab
from ctc_asr.data.rejects import Rejects, attempt

RAW, TRANSCRIPTS, VOCAB, OUT = Path("data/raw"), Path("data/text/transcripts.tsv"), Path("data/vocab.json"), Path("data/encoded")
METRICS, REJECTS = Path("metrics/encode.json"), Path("metrics/rejects/encode.tsv")
# Source columns (accent, dialect region, ...) ride along for the error breakdowns of evaluate.
DROP = {"path", "sample_rate", "seconds", "raw_text", "size", "md5", "offset", "duration"}


@exit_on_user_error
def main() -> None:
    clear(OUT, REJECTS)
    cfg = params.load()
    frame = corpus.read(TRANSCRIPTS)
    tokens = json.loads(VOCAB.read_text(encoding="utf-8"))
    rejects = Rejects(cfg.data.on_error)
    decode = partial(attempt, audio.load_clip, sample_rate=cfg.encode.sample_rate, dtype=cfg.encode.dtype)
    # RAW / path: a path the manifest records as absolute (a file read where it is) stays as it is;
    # a segment (a row cut out of a long recording) is read alone
    paths = [RAW / path for path in frame["path"]]
    clips = ordered_map(decode, zip(paths, corpus.segments(frame)), worker_count(cfg.encode.workers))
    progress = tqdm(zip(frame.itertuples(index=False), clips), total=len(frame), desc="encode", unit="utt")
    # the store is built beside data/encoded and takes its place only when complete
    with replacing(OUT) as folder, store.Writer(folder, cfg.encode.sample_rate, cfg.encode.dtype) as writer, progress:
        for row, outcome in progress:
            samples = rejects.settle(row.id, outcome)
            if samples is not None:
                labels = vocab.encode(row.text, tokens, cfg.target)
                writer.add({k: v for k, v in row._asdict().items() if k not in DROP}, samples, labels)
    note = rejects.save(REJECTS)
    write_json(METRICS, {"utterances": len(frame) - len(rejects.rows), "rejected": rejects.counts()})
    print(f"encode: {len(frame) - len(rejects.rows)} utterances at {cfg.encode.sample_rate} Hz "
          f"({cfg.encode.dtype}) -> {OUT}{note}")


if __name__ == "__main__":
    main()
