"""lm: a word n-gram of the training transcripts (and ngram.text) for beam-search decoding, in ARPA format."""

from itertools import chain

from ctc_asr.core import layout, params
from ctc_asr.core.errors import exit_on_user_error
from ctc_asr.core.outputs import clear, replacing, write_json
from ctc_asr.data import corpus
from ctc_asr.data.target import Target
from ctc_asr.data.text import normalizer
from ctc_asr.decoding import ngram

METRICS = layout.LanguageModel.PATH


@exit_on_user_error
def main() -> None:
    clear(layout.LM)
    cfg = params.load()
    frame = corpus.read(layout.TRANSCRIPTS)
    train = frame.loc[frame["split"] == "train", "text"].tolist()
    why = ngram.why_none(cfg.ngram.order, Target.of(cfg.target, cfg.data.source), train, cfg.ngram.text)
    if why:  # the LM is a word model: phones, and text without words, are decoded greedily
        with replacing(layout.LM) as folder:
            folder.mkdir()
            (folder / "none").write_text(f"{why}: no language model, greedy decoding\n")
        write_json(METRICS, {"order": 0})
        print(f"lm: {why}, no language model (decoding stays greedy)")
        return
    sentences = [text.split() for text in train]
    if cfg.ngram.text:
        sentences = list(chain(sentences, ngram.text_file_sentences(cfg.ngram.text, normalizer(cfg.normalize))))
    model = ngram.estimate(sentences, cfg.ngram.order)
    with replacing(layout.LM) as folder:
        folder.mkdir()
        ngram.save(model, folder)
    known = set(model.words)
    write_json(METRICS, {
        "order": cfg.ngram.order, "sentences": len(sentences), "words": sum(len(s) for s in sentences),
        "vocabulary": len(known), "ngrams": {str(n): len(p) for n, p in enumerate(model.probs, start=1)},
        "oov_rate": {split: ngram.out_of_vocabulary_rate(frame.loc[frame["split"] == split, "text"], known)
                     for split in ("dev", "test")},
    })
    print(f"lm: {cfg.ngram.order}-gram of {len(sentences)} sentences, {len(known)} words -> {layout.LM / ngram.ARPA}")


if __name__ == "__main__":
    main()
