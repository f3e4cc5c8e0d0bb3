"""One seed, independent streams: each kind of random draw of a run gets its own seed from train.seed.

Drawing the initial weights and, later, the dropout masks from one generator reseeded with
the same number would make the two correlated; NumPy's SeedSequence derives independent
streams from one seed instead.
"""

import numpy as np

# Appended, never reordered: a purpose's stream is keyed by its place here.
PURPOSES = ("weights", "dropout", "masks", "batches", "held_out", "loader", "augment", "rooms")


def stream(seed: int, purpose: str, *keys: int) -> int:
    """The seed of `purpose`'s draws (one of PURPOSES) in a run seeded with `seed`; `keys` (a step,
    a process) split it further into streams of their own. A 32-bit value: numpy's legacy seed takes it."""
    key = (PURPOSES.index(purpose), *keys)
    return int(np.random.SeedSequence(seed, spawn_key=key).generate_state(1)[0])
