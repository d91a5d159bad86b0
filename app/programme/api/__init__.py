"""Routers of the action programme's follow-up: watch-lists, people and working groups, progress."""
