"""vocab: the vocabulary (characters, or phones) of the training transcripts; dev and test units it lacks counted."""

import json

from ctc_asr.core import layout, params
from ctc_asr.core.errors import exit_on_user_error
from ctc_asr.core.outputs import clear, write_json, write_text
from ctc_asr.data import corpus
from ctc_asr.data.target import Target

METRICS = layout.stage_metrics("vocab")


@exit_on_user_error
def main() -> None:
    clear(layout.VOCAB)
    cfg = params.load()
    target = Target.of(cfg.target, cfg.data.source)
    frame = corpus.read(layout.TRANSCRIPTS)
    tokens = target.build_vocab(frame.loc[frame["split"] == "train", "text"])
    unseen = {split: target.unseen(frame.loc[frame["split"] == split, "text"], tokens) for split in ("dev", "test")}
    write_text(layout.VOCAB, json.dumps(tokens, indent=1, ensure_ascii=False) + "\n")
    write_json(METRICS, {"size": len(tokens), **{
        f"unseen_{split}_{target.unit}": {"count": sum(c.values()), f"by_{target.unit[:-1]}": dict(sorted(c.items()))}
        for split, c in unseen.items()}})
    test = unseen["test"]
    note = f"; {sum(test.values())} test {target.unit} unseen in training: {target.separator.join(sorted(test))}" if test else ""
    print(f"vocab: {len(tokens)} tokens -> {layout.VOCAB}{note}")


if __name__ == "__main__":
    main()
