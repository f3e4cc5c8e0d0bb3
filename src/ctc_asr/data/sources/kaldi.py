"""Kaldi and ESPnet data folders, one per split: wav.scp, text, utt2spk, and optionally segments and spk2gender.

Each file is a table, a line per key: `wav.scp` "recording path" (a relative path is read from
`data.kaldi.root`, the recipe folder Kaldi's scripts run in), `text` "utterance transcript",
`utt2spk` "utterance speaker", `spk2gender` "speaker m|f" (the gender column, for WER per group).
Without `segments` each recording is an utterance of the same id; with it, "utterance recording
start end" (seconds; end -1: to the recording's end, as Kaldi reads it) cuts the utterances out
of the recordings, and encode reads each segment alone. Entries of wav.scp that are commands
("sph2pipe -f wav a.sph |") are not run: the source reads files, and says how to get them.
An utterance without its audio is a missing file, one without text an empty transcript: both
bad input, under `data.on_error`.
"""

from pathlib import Path

from ctc_asr.core.errors import UserError
from ctc_asr.core.params import KaldiParams
from ctc_asr.data.corpus import UNKNOWN_SPEAKER

# The files Kaldi's utils/validate_data_dir.sh requires too.
NEEDED = ("wav.scp", "text", "utt2spk")


def _table(path: Path) -> dict[str, str]:
    """Kaldi's table format: a key, then its value (the rest of the line)."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return {parts[0]: parts[1].strip() if len(parts) > 1 else "" for line in lines if (parts := line.split(maxsplit=1))}


def _recordings(wav_scp: Path, root: Path) -> dict[str, Path]:
    recordings = _table(wav_scp)
    for recording, entry in recordings.items():
        if entry.endswith("|"):
            raise UserError(
                f"{wav_scp}: {recording} is a command ({entry}), and the kaldi source reads audio files only, "
                "it runs no commands: convert the audio to files (sox in.sph out.wav, ffmpeg -i in.m4a out.wav, "
                "or each command with its | replaced by > RECORDING.wav) and list them in a plain wav.scp")
    return {recording: root / entry for recording, entry in recordings.items()}


def _segments(path: Path) -> dict[str, tuple[str, float, float | None]]:
    """utterance -> (recording, offset, duration or None: to its end)."""
    segments = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:  # a fifth field, a channel, is not needed: every clip is mixed to mono
            utterance, recording, start, end = fields[0], fields[1], float(fields[2]), float(fields[3])
        except (IndexError, ValueError):
            raise UserError(f"{path}: line {number} is not 'utterance recording start end': {line!r}") from None
        segments[utterance] = (recording, start, None if end == -1 else end - start)
    return segments


def _split(folder: Path, split: str, root: Path):
    absent = [name for name in NEEDED if not (folder / name).is_file()]
    if absent:
        raise UserError(f"data.kaldi.{split}_dir: {folder} has no {', '.join(absent)}: a Kaldi data folder holds "
                        f"{', '.join(NEEDED)} (and optionally segments, spk2gender)")
    recordings = _recordings(folder / "wav.scp", root)
    texts, speakers = _table(folder / "text"), _table(folder / "utt2spk")
    genders = _table(folder / "spk2gender") if (folder / "spk2gender").is_file() else None
    segments = _segments(folder / "segments") if (folder / "segments").is_file() else None
    for utterance in sorted(texts.keys() | (recordings if segments is None else segments).keys()):
        recording, offset, duration = (utterance, None, None) if segments is None else segments.get(utterance, (None,) * 3)
        # Audio not listed is a missing file, named by where it should have been listed.
        source = recordings.get(recording) or folder / ("wav.scp" if recording else "segments") / (recording or utterance)
        speaker = speakers.get(utterance) or UNKNOWN_SPEAKER
        yield dict(
            id=utterance, split=split, speaker=speaker, text=texts.get(utterance, ""),
            **({} if genders is None else {"gender": genders.get(speaker, "")}),
            **({} if offset is None else {"offset": offset, "duration": duration}),
            source=source, dest=f"{split}/{recording or utterance}{source.suffix}",
        )


def candidates(cfg: KaldiParams):
    root = Path(cfg.root)
    if not root.is_dir():
        raise UserError(f"data.kaldi.root: {root} is not a directory")
    folders = {"train": cfg.train_dir, "dev": cfg.dev_dir, "test": cfg.test_dir}
    for split, folder in folders.items():
        if folder is not None and not (root / folder).is_dir():
            hint = "; set it to null to hold data.dev_speakers training speakers out instead" if split == "dev" else ""
            raise UserError(f"data.kaldi.{split}_dir: {root / folder} is not a directory, so no {split} split{hint}")
    for split, folder in folders.items():
        if folder is not None:
            yield from _split(root / folder, split, root)
