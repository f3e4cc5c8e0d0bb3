"""filter: choose the training clips (length window, CTC feasibility); a reason for each drop.

Clips outside the length window are dropped as asked; a clip too short for its transcript
is bad input and stops the stage unless data.on_error is skip. Only train is filtered: every
test clip that encode kept is scored, so WER stays comparable whatever the filter keeps.
"""

import numpy as np

from ctc_asr.core import layout, params, tables
from ctc_asr.core.errors import exit_on_user_error
from ctc_asr.core.outputs import clear, write_json
from ctc_asr.data import filters
from ctc_asr.data.rejects import Rejects
from ctc_asr.data.store import Store
from ctc_asr.network import model

ENCODED, OUT = layout.ENCODED, layout.DECISIONS
METRICS, REJECTS = layout.stage_metrics("filter"), layout.rejects("filter")


@exit_on_user_error
def main() -> None:
    clear(OUT, REJECTS)
    cfg = params.load()
    encoded = Store(ENCODED)
    rows = encoded.rows("train")
    needs = np.array([filters.frames_needed(encoded.labels(i)) for i in rows], dtype=np.int64)
    geometry = model.architecture(cfg.model.pretrained, cfg.model.scratch, cfg.model.config)
    decisions = filters.decide(encoded.index.iloc[rows], needs, cfg.filter.min_seconds, cfg.filter.max_seconds, geometry)
    rejects = Rejects(cfg.data.on_error)
    for bad in filters.infeasible(decisions):
        rejects.reject(bad.item, bad)
    tables.write(decisions, OUT)
    rejects.save(REJECTS)
    dropped = decisions.loc[~decisions["kept"], "reason"].value_counts()
    write_json(METRICS, {
        "train_utterances": len(decisions), "kept": int(decisions["kept"].sum()),
        "kept_hours": round(float(decisions.loc[decisions["kept"], "seconds"].sum()) / 3600, 3),
        "dropped": filters.dropped(decisions),   # by a key of filters.DROPPED: the same whatever the params
    })
    print(f"filter: kept {int(decisions['kept'].sum())} of {len(decisions)} training clips"
          + "".join(f"; {v} {k}" for k, v in dropped.items()))


if __name__ == "__main__":
    main()
