"""Seeded, reproducible simulation of the whole API (see `simulator.py`)."""
