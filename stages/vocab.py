"""vocab: the character vocabulary of the training transcripts; dev and test characters it lacks counted."""

import json
from pathlib import Path

from ctc_asr import corpus, vocab
from ctc_asr.errors import exit_on_user_error
from ctc_asr.reports import clear, write_json

TRANSCRIPTS, OUT, METRICS = Path("data/text/transcripts.tsv"), Path("data/vocab.json"), Path("metrics/vocab.json")


@exit_on_user_error
def main() -> None:
    clear(OUT)
    frame = corpus.read(TRANSCRIPTS)
    tokens = vocab.build(frame.loc[frame["split"] == "train", "text"])
    unseen = {split: vocab.unseen(frame.loc[frame["split"] == split, "text"], tokens) for split in ("dev", "test")}
    OUT.write_text(json.dumps(tokens, indent=1, ensure_ascii=False) + "\n")
    write_json(METRICS, {"size": len(tokens), **{
        f"unseen_{split}_characters": {"count": sum(c.values()), "by_character": dict(sorted(c.items()))}
        for split, c in unseen.items()}})
    test = unseen["test"]
    note = f"; {sum(test.values())} test characters unseen in training: {''.join(sorted(test))}" if test else ""
    print(f"vocab: {len(tokens)} tokens -> {OUT}{note}")


if __name__ == "__main__":
    main()
