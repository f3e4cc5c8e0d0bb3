"""vocab: the character vocabulary of the training transcripts; unseen test characters counted."""

import json
from pathlib import Path

from ctc_asr import corpus, vocab
from ctc_asr.errors import exit_on_user_error
from ctc_asr.reports import write_json

TRANSCRIPTS, OUT, METRICS = Path("data/text/transcripts.tsv"), Path("data/vocab.json"), Path("metrics/vocab.json")


@exit_on_user_error
def main() -> None:
    frame = corpus.read(TRANSCRIPTS)
    tokens = vocab.build(frame.loc[frame["split"] == "train", "text"])
    unseen = vocab.unseen(frame.loc[frame["split"] == "test", "text"], tokens)
    OUT.write_text(json.dumps(tokens, indent=1, ensure_ascii=False) + "\n")
    write_json(METRICS, {"size": len(tokens), "unseen_test_characters": sum(unseen.values()),
                         "unseen_by_character": dict(sorted(unseen.items()))})
    note = f"; {sum(unseen.values())} test characters unseen in training: {''.join(sorted(unseen))}" if unseen else ""
    print(f"vocab: {len(tokens)} tokens -> {OUT}{note}")


if __name__ == "__main__":
    main()
