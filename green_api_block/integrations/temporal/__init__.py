"""Green API on Temporal: activities for the five tools, one poller per instance, conversations
that wait for the customer. Install the extra: ``pip install 'green-api-block[temporal]'``."""
