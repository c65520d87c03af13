"""green-api-block's benchmark suite: ``python -m bench`` prints the results table (see run.py)."""
