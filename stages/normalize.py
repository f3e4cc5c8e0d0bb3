"""normalize: clean transcripts (ignored characters, case, spaces); drop and count empty ones."""

from pathlib import Path

from ctc_asr import manifest, params
from ctc_asr.errors import exit_on_user_error
from ctc_asr.reports import split_counts, write_json
from ctc_asr.text import normalize

MANIFEST, OUT, METRICS = Path("data/raw/manifest.tsv"), Path("data/text/transcripts.tsv"), Path("metrics/normalize.json")


@exit_on_user_error
def main() -> None:
    chars_to_ignore = params.load().normalize.chars_to_ignore
    frame = manifest.read(MANIFEST)
    frame = frame.assign(raw_text=frame["text"], text=[normalize(t, chars_to_ignore) for t in frame["text"]])
    empty = frame["text"] == ""
    OUT.parent.mkdir(parents=True, exist_ok=True)
    manifest.write(frame[~empty], OUT)
    write_json(METRICS, {"kept": split_counts(frame[~empty]), "dropped_empty": split_counts(frame[empty])})
    print(f"normalize: {int((~empty).sum())} transcripts kept, {int(empty.sum())} empty after normalization dropped")


if __name__ == "__main__":
    main()
