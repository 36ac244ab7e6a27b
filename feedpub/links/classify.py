"""What an HTTP answer, or its absence, says about a link: its class and an error text.

Classes, not raw codes (see LinkState): a site that refuses robots (401,
403, 429) says nothing about the story, and a timeout or a 5xx is transient;
only 404, 410 and a name that does not exist mean dead.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import httpx

from ..model import LinkState

_DEAD = frozenset({404, 410})
_BLOCKED = frozenset({401, 403, 407, 429, 451})


def classify_status(status: int) -> tuple[LinkState, str | None]:
    """The class of a final HTTP status (after redirects and retries), and an error text."""
    if 200 <= status < 300:
        return LinkState.ALIVE, None
    text = f"HTTP {status} {httpx.codes.get_reason_phrase(status)}".rstrip()
    if status in _DEAD:
        return LinkState.DEAD, text
    if status in _BLOCKED:
        return LinkState.BLOCKED, text
    if 300 <= status < 400:
        return LinkState.UNKNOWN, f"{text} without a usable Location"
    return LinkState.UNKNOWN, text


@dataclass(frozen=True, slots=True)
class Answer:
    """What the checker needs from one HTTP response; its body is never read."""

    method: str
    status: int
    location: str | None
    retry_after: str | None
    note: str | None = None  # why a transient answer was not retried


@dataclass(frozen=True, slots=True)
class Failure:
    """A hop that ended without a usable response."""

    state: LinkState
    error: str
    retry: bool = False
    dns: bool = False  # the host name does not exist
    unreachable: bool = False  # the host could not be resolved or connected to


def transport_failure(e: httpx.TransportError) -> Failure:
    detail = ""
    cause: BaseException | None = e
    while cause is not None:  # the first words in the chain, or a TLS error wherever it is
        if isinstance(cause, ssl.SSLError):
            return Failure(LinkState.UNKNOWN, f"TLS error: {cause}")
        detail = detail or str(cause)
        cause = cause.__cause__ or cause.__context__
    detail = detail or type(e).__name__
    if isinstance(e, httpx.ConnectError):
        return Failure(LinkState.UNKNOWN, f"cannot connect: {detail}", retry=True, unreachable=True)
    if isinstance(e, httpx.NetworkError | httpx.RemoteProtocolError):
        return Failure(LinkState.UNKNOWN, f"connection failed: {detail}", retry=True)
    return Failure(LinkState.UNKNOWN, f"request failed: {detail}")
