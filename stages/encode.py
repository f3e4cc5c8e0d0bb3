"""encode: decode every clip to mono samples at encode.sample_rate (int16 or float32) and its transcript to label ids.

Clips are decoded and resampled on encode.workers processes and written in manifest order,
so the store is byte-for-byte the same for any number of workers.
Every clip is kept whatever its characters: a dev or test transcript with characters the
vocabulary lacks is scored as it is (the model cannot emit them: they count as errors).
"""

import json
from contextlib import closing
from functools import partial

from tqdm import tqdm

from ctc_asr.core import layout, params
from ctc_asr.core.errors import exit_on_user_error
from ctc_asr.core.outputs import clear, replacing, write_json
from ctc_asr.core.parallel import ordered_map, worker_count
from ctc_asr.data import audio, corpus, store
from ctc_asr.data.rejects import Rejects, attempt
from ctc_asr.data.target import Target

METRICS, REJECTS = layout.stage_metrics("encode"), layout.rejects("encode")
# Source columns (accent, dialect region, ...) ride along for the error breakdowns of evaluate.
DROP = {"path", "sample_rate", "seconds", "raw_text", "size", "md5", "offset", "duration"}


@exit_on_user_error
def main() -> None:
    clear(layout.ENCODED, REJECTS)
    cfg = params.load()
    frame = corpus.read(layout.TRANSCRIPTS)
    tokens = json.loads(layout.VOCAB.read_text(encoding="utf-8"))
    rejects = Rejects(cfg.data.on_error)
    decode = partial(attempt, audio.load_clip, sample_rate=cfg.encode.sample_rate, dtype=cfg.encode.dtype)
    # RAW / path: a path the manifest records as absolute (a file read where it is) stays as it is;
    # a segment (a row cut out of a long recording) is read alone
    paths = [layout.RAW / path for path in frame["path"]]
    labels = partial(Target.of(cfg.target, cfg.data.source).encode, tokens=tokens)
    # the store is built beside data/encoded and takes its place only when complete; a clip that stops the
    # stage stops the workers with it (closing), not at the interpreter's exit
    with closing(ordered_map(decode, zip(paths, corpus.segments(frame)), worker_count(cfg.encode.workers))) as clips, \
            replacing(layout.ENCODED) as folder:
        rows = (row._asdict() for row in frame.itertuples(index=False))
        with tqdm(zip(rows, clips), total=len(frame), desc="encode", unit="utt") as progress:  # closed before an error line
            settled = ((row, rejects.settle(row["id"], outcome)) for row, outcome in progress)
            written = store.build(folder, cfg.encode.sample_rate, cfg.encode.dtype, settled, labels,
                                  [c for c in frame.columns if c not in DROP])
    note = rejects.save(REJECTS)
    write_json(METRICS, {"utterances": written, "rejected": rejects.counts()})
    print(f"encode: {written} utterances at {cfg.encode.sample_rate} Hz ({cfg.encode.dtype}) -> {layout.ENCODED}{note}")


if __name__ == "__main__":
    main()
