"""Scoring and deciding: the model, its fast scorer and the policy."""
