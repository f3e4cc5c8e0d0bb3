"""LibriSpeech as OpenSLR ships it: LibriSpeech/<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac.

Each chapter folder holds one <speaker>-<chapter>.trans.txt, a line "ID TEXT" (upper case) per
utterance. Speaker and chapter come from the folder names; SPEAKERS.TXT beside the subsets, where
it is kept, gives each speaker's sex. `train_subsets` make train, `dev_subset` dev and
`test_subset` test: LibriSpeech's subsets share no speaker, so neither do the splits. A
transcript line without its FLAC is a missing file, a FLAC without a line an empty transcript:
both are bad input, under `data.on_error`.
"""

from pathlib import Path

from ctc_asr.core.errors import UserError
from ctc_asr.core.params import LibriSpeechParams


def find_corpus(root: Path, subsets: dict[str, str]) -> Path:
    """The folder holding the most of `subsets` (subset -> split) at `root` or up to two levels below it;
    one lacking any of them is named with the split it would have made."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"data.librispeech.root: {root} is not a directory")
    folders = [root, *sorted(root.glob("*")), *sorted(root.glob("*/*"))]
    corpus = max(folders, key=lambda folder: sum((folder / subset).is_dir() for subset in subsets))  # the first of equals
    missing = [f"{subset} (the {split} split)" for subset, split in subsets.items() if not (corpus / subset).is_dir()]
    if len(missing) == len(subsets):
        raise UserError(f"data.librispeech.root: none of {', '.join(subsets)} is in {root} or two levels below")
    if missing:
        has = ", ".join(sorted(p.name for p in corpus.iterdir() if p.is_dir()))
        raise UserError(f"data.librispeech: {corpus} has no {', '.join(missing)}: unpack its tarball from "
                        f"openslr.org/12 there, or set data.librispeech to subsets it has ({has})")
    return corpus


def _speaker_sex(corpus: Path) -> dict[str, str] | None:
    # ";ID  |SEX| SUBSET           |MINUTES| NAME" under a header of ";" lines
    path = corpus / "SPEAKERS.TXT"
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    fields = [line.split("|") for line in lines if line.strip() and not line.startswith(";")]
    return {row[0].strip(): row[1].strip() for row in fields if len(row) > 1}


def _transcripts(chapter: Path) -> dict[str, str]:
    lines = [line.split(maxsplit=1) for path in sorted(chapter.glob("*.trans.txt"))
             for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    return {parts[0]: parts[1].strip() if len(parts) > 1 else "" for parts in lines if parts}


def candidates(cfg: LibriSpeechParams):
    subsets = {**dict.fromkeys(cfg.train_subsets, "train"), cfg.dev_subset: "dev", cfg.test_subset: "test"}
    corpus = find_corpus(Path(cfg.root), subsets)
    sex = _speaker_sex(corpus)
    for subset, split in subsets.items():
        for chapter in sorted(folder for folder in (corpus / subset).glob("*/*") if folder.is_dir()):
            speaker, book_chapter = chapter.parent.name, chapter.name
            texts = _transcripts(chapter)
            flacs = {path.stem: path for path in chapter.glob("*.flac")}
            for utterance in sorted(texts.keys() | flacs.keys()):
                yield dict(
                    id=utterance, split=split, speaker=speaker, text=texts.get(utterance, ""),
                    subset=subset, chapter=book_chapter, **({} if sex is None else {"sex": sex.get(speaker, "")}),
                    source=flacs.get(utterance, chapter / f"{utterance}.flac"),
                    dest=f"{subset}/{speaker}/{book_chapter}/{utterance}.flac",
                )
