"""Backtest: what a routing config would have done with the recorded history."""
