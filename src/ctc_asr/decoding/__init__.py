"""From audio to text: exact logits, long files, the n-gram LM and beam search."""
