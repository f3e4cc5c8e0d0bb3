import json

import numpy as np

from ctc_asr.data import pcm, store


def write(folder, clips, labels, splits, dtype="float32"):
    with store.Writer(folder, 16000, dtype) as writer:
        for k, (clip, label, split) in enumerate(zip(clips, labels, splits)):
            writer.add({"id": f"u{k}", "split": split, "text": f"text {k}"}, clip, label)


def test_round_trip_views_equal_inputs(tmp_path, rng):
    clips = [rng.standard_normal(n).astype(np.float32) for n in (5, 0, 12, 3)]
    labels = [[1, 2], [3], [], [4, 5, 6]]
    write(tmp_path / "s", clips, labels, ["train", "test", "train", "test"])
    s = store.Store(tmp_path / "s")
    assert len(s) == 4 and s.sample_rate == 16000
    for i in range(4):
        assert s.audio(i).dtype == np.float32 and s.labels(i).dtype == np.int32
        np.testing.assert_array_equal(s.audio(i), clips[i])
        np.testing.assert_array_equal(s.labels(i), np.array(labels[i], np.int32))


def test_index_records_offsets_lengths_and_seconds(tmp_path):
    clips = [np.zeros(8000), np.zeros(4000), np.zeros(16000)]
    labels = [[1], [2, 3, 4], [5, 6]]
    write(tmp_path / "s", clips, labels, ["train"] * 3)
    index = store.Store(tmp_path / "s").index
    assert index["audio_offset"].tolist() == [0, 8000, 12000]
    assert index["audio_length"].tolist() == [8000, 4000, 16000]
    assert index["label_offset"].tolist() == [0, 1, 4]
    assert index["label_length"].tolist() == [1, 3, 2]
    assert index["seconds"].tolist() == [0.5, 0.25, 1.0]
    assert index["id"].tolist() == ["u0", "u1", "u2"]
    assert index["text"].tolist() == ["text 0", "text 1", "text 2"]


def test_files_are_raw_little_endian(tmp_path):
    write(tmp_path / "s", [np.array([0.5, -1.0])], [[7, 300]], ["train"])
    assert (tmp_path / "s" / store.AUDIO["float32"]).read_bytes() == np.array([0.5, -1.0], "<f4").tobytes()
    assert (tmp_path / "s" / store.LABELS).read_bytes() == np.array([7, 300], "<i4").tobytes()
    meta = json.loads((tmp_path / "s" / store.META).read_text())
    assert meta == {"sample_rate": 16000, "dtype": "float32", "utterances": 1}


def test_int16_store_holds_16_bit_pcm_at_half_the_size(tmp_path):
    samples = np.array([0.5, -1.0, 1.0, 0.25 / 32768, -0.75 / 32768, 3 / 32768])
    write(tmp_path / "s", [samples], [[1]], ["train"], dtype="int16")
    raw = (tmp_path / "s" / store.AUDIO["int16"]).read_bytes()
    # rounded to the nearest step, full scale clipped to the largest int16
    assert raw == np.array([16384, -32768, 32767, 0, -1, 3], "<i2").tobytes()
    s = store.Store(tmp_path / "s")
    assert s.dtype == "int16" and s.audio(0).dtype == np.int16
    np.testing.assert_array_equal(pcm.as_float(s.audio(0)), np.array([0.5, -1.0, 32767 / 32768, 0, -1 / 32768, 3 / 32768],
                                                                       np.float32))


def test_16_bit_source_audio_round_trips_exactly(tmp_path, rng):
    sixteen_bit = rng.integers(-32768, 32768, 1000).astype(np.int16)
    as_read = sixteen_bit.astype(np.float32) / 32768  # what soundfile gives for a 16-bit file read as float32
    write(tmp_path / "s", [as_read], [[1]], ["train"], dtype="int16")
    np.testing.assert_array_equal(store.Store(tmp_path / "s").audio(0), sixteen_bit)
    np.testing.assert_array_equal(pcm.as_float(store.Store(tmp_path / "s").audio(0)), as_read)


def test_rows_gives_positions_of_a_split(tmp_path):
    write(tmp_path / "s", [np.zeros(3)] * 5, [[1]] * 5, ["train", "test", "train", "train", "test"])
    s = store.Store(tmp_path / "s")
    assert s.rows("train").tolist() == [0, 2, 3]
    assert s.rows("test").tolist() == [1, 4]
    assert s.rows("dev").tolist() == []


def test_store_with_only_empty_labels_opens(tmp_path):
    write(tmp_path / "s", [np.ones(4), np.ones(2)], [[], []], ["train", "train"])
    s = store.Store(tmp_path / "s")
    assert len(s.labels(0)) == 0 and len(s.labels(1)) == 0
    np.testing.assert_array_equal(s.audio(1), [1, 1])


def test_empty_store_opens(tmp_path):
    write(tmp_path / "s", [], [], [])
    s = store.Store(tmp_path / "s")
    assert len(s) == 0
    assert s.rows("train").tolist() == []


def test_a_pickled_store_sends_its_folder_not_its_audio(make_store, rng):
    import pickle

    store = make_store([rng.standard_normal(48000)], [[1, 2]])
    payload = pickle.dumps(store)
    assert len(payload) < 2000
    assert np.array_equal(pickle.loads(payload).audio(0), store.audio(0))
