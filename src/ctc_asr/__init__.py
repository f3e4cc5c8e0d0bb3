"""ctc_asr: fine-tune wav2vec2 with CTC for English speech recognition."""

__version__ = "0.1.0"
