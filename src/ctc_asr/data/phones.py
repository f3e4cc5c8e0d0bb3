"""Phone transcripts: TIMIT's 61 phones, the 48 they are trained on and the 39 they are scored on.

The convention is Lee and Hon's (1989, "Speaker-independent phone recognition using hidden
Markov models"), in the form of Kaldi's TIMIT recipe (egs/timit/s5/conf/phones.60-48-39.map),
which ESPnet's and SpeechBrain's TIMIT recipes follow too:
- the glottal stop `q` is deleted;
- training uses 48 phones: closures become `cl` (pcl, tcl, kcl) or `vcl` (bcl, dcl, gcl),
  `h#` and `pau` become `sil`, and allophones merge (ax-h -> ax, axr -> er, em -> m,
  eng -> ng, hv -> hh, nx -> n, ux -> uw);
- scoring folds the 48 into 39 (cl, vcl, epi -> sil; ao -> aa; ax -> ah; el -> l; en -> n;
  ix -> ih; zh -> sh), on reference and hypothesis alike.
"""

from pathlib import Path

# TIMIT phone -> training phone (None: deleted)
TIMIT_TO_48 = {
    "aa": "aa", "ae": "ae", "ah": "ah", "ao": "ao", "aw": "aw", "ax": "ax", "ax-h": "ax", "axr": "er",
    "ay": "ay", "b": "b", "bcl": "vcl", "ch": "ch", "d": "d", "dcl": "vcl", "dh": "dh", "dx": "dx",
    "eh": "eh", "el": "el", "em": "m", "en": "en", "eng": "ng", "epi": "epi", "er": "er", "ey": "ey",
    "f": "f", "g": "g", "gcl": "vcl", "h#": "sil", "hh": "hh", "hv": "hh", "ih": "ih", "ix": "ix",
    "iy": "iy", "jh": "jh", "k": "k", "kcl": "cl", "l": "l", "m": "m", "n": "n", "ng": "ng",
    "nx": "n", "ow": "ow", "oy": "oy", "p": "p", "pau": "sil", "pcl": "cl", "q": None, "r": "r",
    "s": "s", "sh": "sh", "t": "t", "tcl": "cl", "th": "th", "uh": "uh", "uw": "uw", "ux": "uw",
    "v": "v", "w": "w", "y": "y", "z": "z", "zh": "zh",
}
# training phone -> scoring phone
FOLD_48_TO_39 = {phone: phone for phone in set(TIMIT_TO_48.values()) - {None}} | {
    "cl": "sil", "vcl": "sil", "epi": "sil", "ao": "aa", "ax": "ah", "el": "l", "en": "n", "ix": "ih", "zh": "sh",
}


def read_timit(phn: str | Path) -> str:
    """A TIMIT .PHN file ("0 3050 h#" per line) as its training phones, space-separated."""
    phones = []
    for number, line in enumerate(Path(phn).read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3 or parts[2] not in TIMIT_TO_48:
            raise ValueError(f"{phn}: line {number}: expected 'start end phone' with a TIMIT phone, got {line!r}")
        if TIMIT_TO_48[parts[2]] is not None:
            phones.append(TIMIT_TO_48[parts[2]])
    return " ".join(phones)


def fold(text: str, table: dict[str, str]) -> str:
    """Space-separated phones mapped through `table` (phones it lacks are kept as they are)."""
    return " ".join(table.get(phone, phone) for phone in text.split())
