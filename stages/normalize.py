"""normalize: the transcripts the model learns: words cleaned (Unicode form, ignored characters, case, spaces), or the
phones download recorded (target: phones); empty ones fail or are dropped."""

from ctc_asr.core import layout, params
from ctc_asr.core.errors import BadInput, UserError, exit_on_user_error
from ctc_asr.core.outputs import clear, write_json
from ctc_asr.data import corpus
from ctc_asr.data.rejects import Rejects
from ctc_asr.data.target import Target
from ctc_asr.data.text import normalize_phones, normalizer

MANIFEST, OUT = layout.MANIFEST, layout.TRANSCRIPTS
METRICS, REJECTS = layout.stage_metrics("normalize"), layout.rejects("normalize")


@exit_on_user_error
def main() -> None:
    clear(OUT, REJECTS)
    cfg = params.load()
    frame = corpus.read(MANIFEST)
    if Target.of(cfg.target, cfg.data.source).phones:
        if "phones" not in frame.columns:
            raise UserError(f"target: phones, but data.source {cfg.data.source} recorded no phones in {MANIFEST} "
                            "(manifest, hub: name the column in data.<source>.phones_column)")
        texts = [normalize_phones(p) for p in frame["phones"]]
    else:
        clean = normalizer(cfg.normalize)
        texts = [clean(t) for t in frame["text"]]
    frame = frame.assign(raw_text=frame["text"], text=texts)
    empty = frame["text"] == ""
    rejects = Rejects(cfg.data.on_error)
    for row in frame[empty].itertuples():
        rejects.reject(row.id, BadInput(row.id, "empty after normalization", repr(row.raw_text)))
    corpus.write(frame[~empty], OUT)
    rejects.save(REJECTS)
    write_json(METRICS, {"kept": corpus.split_counts(frame[~empty]), "dropped_empty": corpus.split_counts(frame[empty])})
    print(f"normalize: {int((~empty).sum())} transcripts kept, {int(empty.sum())} empty after normalization dropped")


if __name__ == "__main__":
    main()
