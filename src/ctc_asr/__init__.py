"""ctc_asr: fine-tune wav2vec2 with CTC for English speech recognition."""

import os

__version__ = "0.1.0"

# PyTorch's CPU threads are OpenMP's (libgomp), which by default spin between parallel regions. A
# training step runs thousands of small regions, so when another program holds a core, a spinning
# thread burns the time its descheduled partner needs: beside one busy process the demo trained at
# 32 % of its speed alone, at 60 % with sleeping threads, and no slower alone (bench/contention.py,
# docs/results.md). libgomp reads this once, when torch loads it: it must be set before that.
# A user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT is kept. The results are the same either way.
if "GOMP_SPINCOUNT" not in os.environ:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
