"""ctc_asr: fine-tune wav2vec2 with CTC for English speech recognition."""

import os

__version__ = "0.1.0"

# PyTorch's CPU threads are OpenMP's (libgomp), which by default spin 300,000 times between parallel
# regions. A training step runs thousands of small regions, so when another program holds a core, a
# spinning thread burns the time its descheduled partner needs (beside one busy process: 32 % of the speed
# alone). Sleeping at once (OMP_WAIT_POLICY=PASSIVE) is fair under contention but pays a wake-up at every
# region when alone; a spin of 1,000 turns catches the short gaps between regions and gives the core up
# long before the scheduler's time slice: as fast as sleeping beside busy processes, 1.45x faster alone
# (bench/contention.py, docs/results.md). libgomp reads this once, when torch loads it: it must be set
# before that. A user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT is kept. The results are the same either way.
SPIN_COUNT = "1000"
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", SPIN_COUNT)
