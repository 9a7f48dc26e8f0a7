"""Insights: did the rollout cause the change, and how sure can we be."""
