import pytest

from ctc_asr.text import normalize

IGNORE = ',?.!-;:"'


def test_ignored_punctuation_is_removed_and_text_lowercased():
    assert normalize('Hello, World! Is it "new"?', IGNORE) == "hello world is it new"


def test_every_ignored_character_is_removed():
    assert normalize("a,b?c.d!e-f;g:h\"i", IGNORE) == "abcdefghi"


def test_whitespace_is_collapsed_and_stripped():
    assert normalize("  two \t spaces\n\nand  lines  ", IGNORE) == "two spaces and lines"


def test_apostrophes_are_kept():
    assert normalize("Don't stop; it's ours.", IGNORE) == "don't stop it's ours"


@pytest.mark.parametrize("transcript", ["", "?!.", ' -- ; : " , '])
def test_transcript_of_only_punctuation_becomes_empty(transcript):
    assert normalize(transcript, IGNORE) == ""


def test_empty_ignore_set_only_lowercases_and_collapses():
    assert normalize("Hi,  There!", "") == "hi, there!"


def test_characters_special_in_regex_are_literal():
    assert normalize("a]b^c\\d", "]^\\") == "abcd"
