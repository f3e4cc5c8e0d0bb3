import json

import numpy as np

from ctc_asr import store


def write(folder, clips, labels, splits):
    with store.Writer(folder, 16000) as writer:
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
    assert (tmp_path / "s" / store.AUDIO).read_bytes() == np.array([0.5, -1.0], "<f4").tobytes()
    assert (tmp_path / "s" / store.LABELS).read_bytes() == np.array([7, 300], "<i4").tobytes()
    assert json.loads((tmp_path / "s" / store.META).read_text()) == {"sample_rate": 16000, "utterances": 1}


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
