"""download: turn data.source into audio files plus data/raw/manifest.tsv."""

from pathlib import Path

from ctc_asr import params, sources
from ctc_asr.errors import exit_on_user_error
from ctc_asr.reports import split_counts, write_json

OUT, METRICS = Path("data/raw"), Path("metrics/download.json")


@exit_on_user_error
def main() -> None:
    data = params.load().data
    frame = sources.download(data, OUT)
    write_json(METRICS, {
        "source": data.source,
        "utterances": split_counts(frame),
        "speakers": {s: int(n) for s, n in frame.groupby("split")["speaker"].nunique().items()},
        "hours": {s: round(float(x) / 3600, 3) for s, x in frame.groupby("split")["seconds"].sum().items()},
    })
    print(f"download: {len(frame)} utterances from {data.source} -> {OUT / 'manifest.tsv'}")


if __name__ == "__main__":
    main()
