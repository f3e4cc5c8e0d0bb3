"""encode: decode every clip to mono float32 at encode.sample_rate and its transcript to label ids, in one store.

Every clip is kept whatever its characters: a dev or test transcript with characters the
vocabulary lacks is scored as it is (the model cannot emit them: they count as errors).
"""

from pathlib import Path

from tqdm import tqdm

from ctc_asr import audio, corpus, params, store, vocab
from ctc_asr.errors import exit_on_user_error
from ctc_asr.rejects import Rejects
from ctc_asr.reports import write_json

RAW, TRANSCRIPTS, VOCAB, OUT = Path("data/raw"), Path("data/text/transcripts.tsv"), Path("data/vocab.json"), Path("data/encoded")
METRICS, REJECTS = Path("metrics/encode.json"), Path("metrics/rejects/encode.tsv")
# Source columns (accent, dialect region, ...) ride along for the error breakdowns of evaluate.
DROP = {"path", "sample_rate", "seconds", "raw_text"}


@exit_on_user_error
def main() -> None:
    cfg = params.load()
    frame = corpus.read(TRANSCRIPTS)
    tokenizer = vocab.tokenizer(VOCAB)
    rejects = Rejects(cfg.data.on_error)
    with store.Writer(OUT, cfg.encode.sample_rate) as writer:
        for row in tqdm(frame.itertuples(index=False), total=len(frame), desc="encode", unit="utt"):
            samples = rejects.check(row.id, audio.load, RAW / row.path, cfg.encode.sample_rate)
            if samples is not None:
                writer.add({k: v for k, v in row._asdict().items() if k not in DROP}, samples, tokenizer(row.text).input_ids)
    note = rejects.save(REJECTS)
    write_json(METRICS, {"utterances": len(frame) - len(rejects.rows), "rejected": rejects.counts()})
    print(f"encode: {len(frame) - len(rejects.rows)} utterances at {cfg.encode.sample_rate} Hz -> {OUT}{note}")


if __name__ == "__main__":
    main()
