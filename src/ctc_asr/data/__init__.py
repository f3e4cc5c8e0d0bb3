"""Data preparation: sources, the corpus table, text, vocab, audio decoding, the encoded store, filters."""
