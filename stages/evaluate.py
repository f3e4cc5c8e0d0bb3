"""evaluate: build models/asr (the trained model with its tuned LM decoder), load it as a user would,
transcribe every test clip greedily and with the LM, analyse the errors, write the model card.

The headline rate is the LM's when there is one (evaluate.headline: WER, or CER for text written without
spaces; PER for the phone target, decoded greedily: the LM is a word model).
"""

from ctc_asr.core import layout, params
from ctc_asr.core.errors import exit_on_user_error
from ctc_asr.core.outputs import clear, replacing, write_json
from ctc_asr.data.corpus import extra_tests
from ctc_asr.data.store import Store
from ctc_asr.data.target import Target
from ctc_asr.decoding import recogniser
from ctc_asr.evaluation import report

METRICS, TIMING = layout.Evaluated.PATH, layout.timing("evaluate")


@exit_on_user_error
def main() -> None:
    clear(layout.ASR, layout.PREDICTIONS, layout.EVAL_DETAILS, TIMING)
    cfg = params.load()
    tuned = layout.Tuned.read()
    encoded = Store(layout.ENCODED)
    train_texts = encoded.index.loc[encoded.index["split"] == "train", "text"]
    # models/asr and the details are built beside their places and take them only when complete
    with replacing(layout.ASR) as asr, replacing(layout.EVAL_DETAILS) as details:
        recogniser.assemble(layout.TRAINED, layout.LM, tuned.alpha, tuned.beta, cfg.decode.beam_width, asr)
        model = recogniser.load(asr)
        test, decoded, timing = recogniser.transcribe_split(model, encoded, "test", cfg.decode.batch_size)
        others = {split: recogniser.transcribe_split(model, encoded, split, cfg.decode.batch_size)[:2]
                  for split in extra_tests(encoded.index["split"])}
        result = report.build(Target.of(cfg.target, cfg.data.source), test, decoded, cfg, train_texts,
                              model.processor.tokenizer.get_vocab(), others)
        result.write(layout.PREDICTIONS, details)
        write_json(METRICS, result.metrics)
        write_json(TIMING, {**timing, "audio_seconds": round(float(test["seconds"].sum()), 2),
                            "device": str(model.network.device)})
        card = report.model_card(cfg, encoded, result, tuned, layout.Trained.read(), layout.LanguageModel.read(), str(layout.ASR))
        (asr / "README.md").write_text(card)
    speed = 1 / timing.get("ngram_real_time_factor", timing["greedy_real_time_factor"])
    print(f"evaluate: {result.summary()} on {len(test)} test utterances ({speed:.0f}x real time) -> {layout.ASR}; "
          f"details in {layout.EVAL_DETAILS}/")


if __name__ == "__main__":
    main()
