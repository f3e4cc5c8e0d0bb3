"""download: turn data.source into audio files plus data/raw/manifest.tsv."""

from ctc_asr.core import layout, params
from ctc_asr.core.errors import exit_on_user_error
from ctc_asr.core.outputs import clear, replacing, write_json
from ctc_asr.data import corpus, sources
from ctc_asr.data.rejects import Rejects

OUT, METRICS, REJECTS = layout.RAW, layout.stage_metrics("download"), layout.rejects("download")


@exit_on_user_error
def main() -> None:
    clear(OUT, REJECTS)
    data = params.load().data
    rejects = Rejects(data.on_error)
    with replacing(OUT) as folder:
        frame = sources.download(data, folder, rejects)
    note = rejects.save(REJECTS)
    write_json(METRICS, {
        "source": data.source,
        "utterances": corpus.split_counts(frame),
        "speakers": {s: int(n) for s, n in frame.groupby("split")["speaker"].nunique().items()},
        "hours": {s: round(float(x) / 3600, 3) for s, x in frame.groupby("split")["seconds"].sum().items()},
        "rejected": rejects.counts(),
    })
    print(f"download: {len(frame)} utterances from {data.source} -> {layout.MANIFEST}{note}")


if __name__ == "__main__":
    main()
