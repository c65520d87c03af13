"""Adapters to agent frameworks. Each submodule imports its framework lazily; install the extra:

* :mod:`green_api_block.integrations.langchain`: ``pip install 'green-api-block[langchain]'``
"""
