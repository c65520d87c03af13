"""The Temporal connection flags ``temporal worker`` and ``temporal poll`` share, and the
:class:`~green_api_block.integrations.temporal.worker.ConnectOptions` they make.

temporalio is imported only by :func:`connect_options`, when a command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from green_api_block.integrations.temporal.worker import ConnectOptions

__all__ = ["add_connection_arguments", "connect_options", "seconds"]


def seconds(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError("must be from 0 to 3600 seconds")
    return value


def add_connection_arguments(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """``--address``, ``--namespace`` and what a hosted Temporal needs (TLS files, an API key)."""
    t = parser.add_argument_group("Temporal")
    t.add_argument("--address", default="127.0.0.1:7233", help="host:port (default 127.0.0.1:7233)")
    t.add_argument("--namespace", default="default", help="namespace (default 'default')")
    t.add_argument("--tls-cert", type=Path, metavar="FILE", help="TLS client certificate (PEM)")
    t.add_argument("--tls-key", type=Path, metavar="FILE", help="TLS client private key (PEM)")
    t.add_argument("--tls-ca", type=Path, metavar="FILE", help="CA certificate of the server (PEM)")
    t.add_argument("--api-key-file", type=Path, metavar="FILE", help="a Temporal Cloud API key, from a file")
    t.add_argument(
        "--connect-timeout",
        type=seconds,
        default=30.0,
        metavar="SECONDS",
        help="keep trying to reach the server this long at start (default 30)",
    )
    return t


def connect_options(args: argparse.Namespace) -> ConnectOptions:
    """The flags as ConnectOptions; a half-given certificate pair fails here, before connecting."""
    try:
        import temporalio  # noqa: F401
    except ModuleNotFoundError:
        from green_api_block.errors import ConfigError

        raise ConfigError(
            f"temporal {args.temporal_command} needs the extra: pip install 'green-api-block[temporal]'"
        ) from None
    from green_api_block.integrations.temporal.worker import ConnectOptions

    options = ConnectOptions(
        address=args.address,
        namespace=args.namespace,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_ca=args.tls_ca,
        api_key_file=args.api_key_file,
    )
    options.tls()
    return options
