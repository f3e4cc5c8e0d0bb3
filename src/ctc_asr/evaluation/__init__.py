"""Scoring, the error analysis, the regression gate and the model card."""
