"""vocab: the vocabulary (characters, or phones) of the training transcripts; dev and test units it lacks counted."""

import json
from pathlib import Path

from ctc_asr.core import params
from ctc_asr.core.errors import exit_on_user_error
from ctc_asr.core.outputs import clear, write_json, write_text
from ctc_asr.data import corpus, vocab

TRANSCRIPTS, OUT, METRICS = Path("data/text/transcripts.tsv"), Path("data/vocab.json"), Path("metrics/vocab.json")


@exit_on_user_error
def main() -> None:
    clear(OUT)
    target = params.load().target
    unit = "phones" if target == "phones" else "characters"
    frame = corpus.read(TRANSCRIPTS)
    tokens = vocab.build(frame.loc[frame["split"] == "train", "text"], target)
    unseen = {split: vocab.unseen(frame.loc[frame["split"] == split, "text"], tokens, target) for split in ("dev", "test")}
    write_text(OUT, json.dumps(tokens, indent=1, ensure_ascii=False) + "\n")
    write_json(METRICS, {"size": len(tokens), **{
        f"unseen_{split}_{unit}": {"count": sum(c.values()), f"by_{unit[:-1]}": dict(sorted(c.items()))}
        for split, c in unseen.items()}})
    test = unseen["test"]
    shown = (" " if target == "phones" else "").join(sorted(test))
    note = f"; {sum(test.values())} test {unit} unseen in training: {shown}" if test else ""
    print(f"vocab: {len(tokens)} tokens -> {OUT}{note}")


if __name__ == "__main__":
    main()
