"""Pure-Python engine of Espresso Care: shot detection, maintenance rules, backflush program.

Nothing in this package imports Home Assistant; it is fed (timestamp, value) samples and is
deterministic. Import from the submodules (``engine.detector``, ``engine.maintenance``, ...).
"""
