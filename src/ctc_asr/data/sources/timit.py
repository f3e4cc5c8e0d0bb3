"""TIMIT as the LDC ships it: TRAIN/DR1/FCJF0/SA1.WAV (NIST SPHERE) with SA1.TXT beside it.

Upper- and lower-case trees both work. Speaker and dialect region come from the path;
`.PHN` files give each utterance's phones (the 48 training phones, see phones.py) for the
phone target, and their paths and the `.WRD` paths are kept in the manifest. Every speaker reads the two SA
sentences, so they sit in train and test alike unless `keep_sa` is false.

`test_set: core` scores the 24 core test speakers and takes the standard 50-speaker dev
set from the rest of TEST (as the Kaldi and SpeechBrain recipes do); `full` scores all 168
test speakers, and dev speakers are held out of TRAIN (`data.dev_speakers`).
"""

import sys
from pathlib import Path

import numpy as np

from ctc_asr.core.errors import UserError
from ctc_asr.core.params import TimitParams
from ctc_asr.data.phones import read_timit

# The standard test subsets of the literature (as in the Kaldi and ESPnet TIMIT recipes).
CORE_TEST_SPEAKERS = frozenset(
    "mdab0 mwbt0 felc0 mtas1 mwew0 fpas0 mjmp0 mlnt0 fpkt0 mlll0 mtls0 fjlm0 "
    "mbpm0 mklt0 fnlp0 mcmj0 mjdh0 fmgd0 mgrt0 mnjm0 fdhc0 mjln0 mpam0 fmld0".split()
)
DEV_SPEAKERS = frozenset(
    "faks0 mmdb1 mbdg0 fedw0 mtdt0 fsem0 mdvc0 mrjm4 mjsw0 mteb0 fdac1 mmdm2 mbwm0 mgjf0 mthc0 "
    "mbns0 mers0 fcal1 mreb0 mjfc0 fjem0 mpdf0 mcsh0 mglb0 mwjg0 mmjr0 fmah0 mmwh0 fgjd0 mrjr0 "
    "mgwt0 fcmh0 fadg0 mrtk0 fnmr0 mdls0 fdrw0 fjsj0 fjmg0 fmml0 mjar0 fkms0 fdms0 mtaa0 frew0 "
    "mdlf0 mrcs0 majc0 mroa0 mrws1".split()
)


def find_corpus(root: Path) -> dict[str, Path]:
    """The TRAIN and TEST folders (any case) at `root` or up to two levels below it."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"data.timit.root: {root} is not a directory")
    for folder in [root, *root.glob("*"), *root.glob("*/*")]:
        if folder.is_dir():
            splits = {p.name.lower(): p for p in folder.iterdir() if p.is_dir() and p.name.lower() in ("train", "test")}
            if len(splits) == 2:
                return splits
    raise UserError(f"data.timit.root: no TRAIN and TEST folders found in {root} or two levels below")


def _sibling(wav: Path, suffix: str) -> Path | None:
    for candidate in (wav.with_suffix(suffix.upper()), wav.with_suffix(suffix.lower())):
        if candidate.is_file():
            return candidate
    return None


def _transcript(txt: Path | None) -> str:
    # "0 46797 She had your dark suit in greasy wash water all year."
    if txt is None:
        return ""
    parts = txt.read_text(encoding="utf-8", errors="replace").split(maxsplit=2)
    return parts[2].strip() if len(parts) == 3 else ""


def _phones(phn: Path | None) -> str:
    try:
        return read_timit(phn) if phn else ""
    except ValueError as error:
        raise UserError(str(error)) from None


def _split(folder: str, speaker: str, test_set: str) -> str | None:
    if folder == "train" or test_set == "full":
        return folder
    return "test" if speaker in CORE_TEST_SPEAKERS else "dev" if speaker in DEV_SPEAKERS else None


def _require_core_speakers(test: Path) -> None:
    """Stop when TEST lacks every core test speaker (there would be no test split); warn when it lacks some."""
    present = {folder.name.lower() for folder in test.glob("*/*") if folder.is_dir()}
    lack_test, lack_dev = len(CORE_TEST_SPEAKERS - present), len(DEV_SPEAKERS - present)
    if lack_test == len(CORE_TEST_SPEAKERS):
        raise UserError(f"data.timit.test_set: core, but {test} lacks all {lack_test} core test speakers, so there "
                        "would be no test split; set data.timit.test_set: full to test on every TEST speaker")
    if lack_test or lack_dev:
        print(f"download: warning: {test} lacks {lack_test} of the {len(CORE_TEST_SPEAKERS)} core test and {lack_dev} of "
              f"the {len(DEV_SPEAKERS)} standard dev speakers: WER not comparable with published core-test results",
              file=sys.stderr)


def candidates(cfg: TimitParams):
    folders = find_corpus(Path(cfg.root))
    if cfg.test_set == "core":
        _require_core_speakers(folders["test"])
    for folder_split, folder in sorted(folders.items(), reverse=True):  # train first
        for wav in sorted(folder.glob("*/*/*")):
            if wav.suffix.lower() != ".wav" or "." in wav.stem:  # skip converted copies like SA1.WAV.wav
                continue
            region, speaker, sentence = wav.parent.parent.name.lower(), wav.parent.name.lower(), wav.stem.lower()
            split = _split(folder_split, speaker, cfg.test_set)
            if split is None or (sentence.startswith("sa") and not cfg.keep_sa):
                continue
            phn, wrd = _sibling(wav, ".phn"), _sibling(wav, ".wrd")
            yield dict(
                id=f"{speaker}_{sentence}", split=split, speaker=speaker, text=_transcript(_sibling(wav, ".txt")),
                dialect_region=region, sentence_type=sentence[:2],
                phones=_phones(phn), phn_path=str(phn or ""), wrd_path=str(wrd or ""),
                source=wav, dest=f"{split}/{region}/{speaker}/{sentence}.wav",
            )


def modelled_seconds(count: int, rng: np.random.Generator) -> np.ndarray:
    """Clip durations drawn like TIMIT's, for planning and benchmarks without the corpus.

    Log-normal, mean 3.08 s (TIMIT: 6,300 utterances, about 5.4 hours), spread so that 86 %
    of the training clips are under 4 s: the seed notebook kept 3,978 of 4,620 (its log:
    29.724 samples/s over 4,015 s for 30 epochs), clipped to TIMIT's 0.9-7.8 s range.
    """
    sigma = 0.276
    return np.clip(rng.lognormal(np.log(3.08) - sigma**2 / 2, sigma, count), 0.9, 7.8)
