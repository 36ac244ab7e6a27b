"""Link checking: the engine (check.py) and the network guard (safenet.py)."""
