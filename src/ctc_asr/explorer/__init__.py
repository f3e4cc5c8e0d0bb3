"""A local web page over a run's test results: `python -m ctc_asr explore` (see docs/explore.md)."""
