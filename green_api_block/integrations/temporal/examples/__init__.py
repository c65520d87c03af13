"""Runnable examples of the Temporal integration (``python -m ...examples.order_confirmation``)."""
