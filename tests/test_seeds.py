import numpy as np

from ctc_asr.core.seeds import PURPOSES, stream


def test_each_purpose_has_its_own_stream_and_the_seed_decides_them():
    seeds = [stream(0, p) for p in PURPOSES]
    assert len(set(seeds)) == len(PURPOSES)
    assert seeds == [stream(0, p) for p in PURPOSES]          # the same seed, the same streams
    assert set(seeds).isdisjoint(stream(1, p) for p in PURPOSES)


def test_streams_of_one_seed_are_not_correlated():
    draws = [np.random.default_rng(stream(0, p)).random(10_000) for p in ("weights", "dropout")]
    assert abs(np.corrcoef(*draws)[0, 1]) < 0.05
