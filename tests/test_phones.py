"""Phone transcripts: TIMIT's 61 -> 48 -> 39 tables, .PHN reading, eSpeak's phonemes, phone vocab and PER."""

import pandas as pd
import pytest

from ctc_asr.data import vocab
from ctc_asr.data.phones import FOLD_48_TO_39, TIMIT_TO_48, fold, read_timit
from ctc_asr.data.sources.espeak import Espeak
from ctc_asr.data.target import Target
from ctc_asr.evaluation.analysis import analyse

# The 61 phones of the TIMIT documentation (phoncode.doc), closures and silences included.
TIMIT_61 = ("b d g p t k dx q jh ch s sh z zh f th v dh m n ng em en eng nx l r w y hh hv el iy ih eh ey ae aa aw ay "
            "ah ao oy ow uh uw ux er ax ix axr ax-h pau epi h# bcl dcl gcl pcl tcl kcl").split()


def test_every_timit_phone_maps_to_48_training_phones_and_39_scoring_classes():
    assert len(TIMIT_61) == 61 and set(TIMIT_TO_48) == set(TIMIT_61)
    training = set(TIMIT_TO_48.values()) - {None}
    assert len(training) == 48 and set(FOLD_48_TO_39) == training
    assert len(set(FOLD_48_TO_39.values())) == 39
    assert [p for p, t in TIMIT_TO_48.items() if t is None] == ["q"]
    assert {FOLD_48_TO_39[TIMIT_TO_48[p]] for p in ("h#", "pau", "epi", "bcl", "dcl", "gcl", "pcl", "tcl", "kcl")} == {"sil"}


def test_phn_files_give_training_phones_with_closures_and_silences_mapped_and_q_deleted(tmp_path):
    phn = tmp_path / "SX1.PHN"
    phn.write_text("0 2000 h#\n2000 2400 bcl\n2400 2600 b\n2600 3000 ae\n3000 3100 q\n3100 3300 tcl\n"
                   "3300 3500 t\n3500 3900 pau\n3900 4000 ix\n4000 4600 h#\n")
    assert read_timit(phn) == "sil vcl b ae cl t sil ix sil"
    assert fold(read_timit(phn), FOLD_48_TO_39) == "sil sil b ae sil t sil ih sil"


def test_a_phn_line_that_is_not_a_timit_phone_is_named(tmp_path):
    phn = tmp_path / "SX1.PHN"
    phn.write_text("0 2000 h#\n2000 2400 xx\n")
    with pytest.raises(ValueError, match=r"SX1.PHN: line 2"):
        read_timit(phn)


def test_per_on_a_hand_computed_case():
    test = pd.DataFrame({"id": ["u1", "u2"], "speaker": ["s", "s"], "seconds": [1.0, 2.5],
                         "text": ["sil sh iy hh ae d sil", "aa b"]})
    # u1: iy -> ih (a substitution), ae missing (a deletion); u2: an extra k (an insertion)
    result = analyse(test, ["sil sh ih hh d sil", "aa b k"], [2], [], 5, Target("phones"))
    assert result.totals == {"per": round(3 / 9, 4), "substitutions": 1, "deletions": 1, "insertions": 1,
                             "reference_phones": 9}
    assert result.predictions["errors"].tolist() == [2, 1] and "reference_chars" not in result.predictions
    assert result.groups["duration"].set_index("duration")["per"].to_dict() == {"0-2s": round(2 / 7, 4), "2+s": 0.5}
    assert set(result.top_errors["unit"]) == {"phone"}
    assert sorted(map(tuple, result.confusions.values.tolist())) == [("ae", "∅"), ("iy", "ih"), ("∅", "k")]


def test_a_phone_vocab_has_whole_phones_and_its_tokenizer_round_trips(tmp_path):
    tokens = vocab.build(["sil sh iy hh ae d sil", "aa b sil"], "phones")
    assert list(tokens) == ["aa", "ae", "b", "d", "hh", "iy", "sh", "sil", "[UNK]", "[PAD]"]
    path = tmp_path / "vocab.json"
    path.write_text(pd.Series(tokens).to_json())
    tokenizer = vocab.tokenizer(path, "phones")
    ids = tokenizer("sil sh iy zz").input_ids
    assert tokenizer.convert_ids_to_tokens(ids) == ["sil", "sh", "iy", "[UNK]"]
    assert vocab.unseen(["sil zz sh zz"], tokens, "phones") == {"zz": 2}
    # CTC decoding: repeats merged, blanks dropped, phones joined by spaces
    pad, sh, sil = tokens["[PAD]"], tokens["sh"], tokens["sil"]
    assert tokenizer.decode([sil, sil, pad, sh, pad, pad, sh, sil]) == "sil sh sh sil"


def test_espeak_gives_phonemes_of_the_voice_without_stress_marks():
    engine = Espeak()
    engine.set_voice("en-us")
    american = engine.phonemes("Glue the sheet to the dark blue background.")
    engine.set_voice("en-gb-scotland")
    scottish = engine.phonemes("Glue the sheet to the dark blue background.")
    assert american.split()[:3] == ["g", "l", "u:"] and not set("',%") & set(american)
    assert american != scottish and "r" in scottish.split()  # a rhotic accent says the r of "dark"
    assert engine.phonemes("Glue the sheet. To the dark, blue background") == scottish  # clauses joined
