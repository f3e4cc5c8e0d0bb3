"""encode: decode every clip to mono 16 kHz float32 and its transcript to label ids, in one store."""

from pathlib import Path

from tqdm import tqdm

from ctc_asr import audio, manifest, params, store, vocab
from ctc_asr.errors import exit_on_user_error

RAW, TRANSCRIPTS, VOCAB, OUT = Path("data/raw"), Path("data/text/transcripts.tsv"), Path("data/vocab.json"), Path("data/encoded")
KEEP = ["id", "split", "speaker", "text"]


@exit_on_user_error
def main() -> None:
    sample_rate = params.load().encode.sample_rate
    frame = manifest.read(TRANSCRIPTS)
    tokenizer = vocab.tokenizer(VOCAB)
    with store.Writer(OUT, sample_rate) as writer:
        for row in tqdm(frame.itertuples(index=False), total=len(frame), desc="encode", unit="utt"):
            samples = audio.load(RAW / row.path, sample_rate)
            writer.add({k: getattr(row, k) for k in KEEP}, samples, tokenizer(row.text).input_ids)
    print(f"encode: {len(frame)} utterances at {sample_rate} Hz -> {OUT}")


if __name__ == "__main__":
    main()
