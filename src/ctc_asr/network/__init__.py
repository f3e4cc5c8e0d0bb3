"""The wav2vec2 network, its conv geometry and exact padded batches."""
