"""Which addresses a link check may reach, and a transport that connects only there.

Article URLs come from outside: a link to ``http://10.0.0.5/admin`` or to a
name that resolves to the cloud metadata service must not turn the publisher's
machine into a probe of its own network. So the checker resolves every host
itself, refuses addresses that are not public (unless ``allow_private``), and
then connects to exactly the address it approved: :class:`PinnedTransport`
never resolves a name, so a DNS answer that changes between the check and the
connection (DNS rebinding) cannot redirect it.

Link checks connect directly; proxy settings in the environment are ignored,
because through a proxy the approved address would mean nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Resolves a host name to its addresses; raises socket.gaierror like getaddrinfo.
Resolver = Callable[[str, int], Awaitable[tuple[str, ...]]]

# Refused even with allow_private: no news story lives there.
CLOUD_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, …
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
    )
)
# IPv6 prefixes whose last 32 bits are an IPv4 address the packets are translated to:
# NAT64 (RFC 6052 § 2.1, the well-known prefix; RFC 8215's local-use prefix).
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # RFC 2765 § 2.1: IPv4-translated
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated by RFC 3879, still routable inside


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries, where the packets would end up, or None.

    IPv4-mapped (``::ffff:a.b.c.d``), IPv4-compatible (``::a.b.c.d``, RFC 4291
    § 2.5.5.1, deprecated but still accepted by some stacks), IPv4-translated
    (``::ffff:0:a.b.c.d``), 6to4 (``2002:AABB:CCDD::``), NAT64
    (``64:ff9b::a.b.c.d``) and Teredo (the client address).
    """
    value = int(address)
    low = ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if value >> 32 == 0 and value > 1:  # :: and ::1 are IPv6's own
        return low
    if address in _TRANSLATED or any(address in net for net in _NAT64):
        return low
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def address_refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why a link check must not connect to ``address``, or None if it may.

    IPv6 addresses that embed an IPv4 one (see :func:`embedded_ipv4`) are
    judged by the IPv4 address, which is where the packets end up. Cloud
    metadata addresses are refused even with ``allow_private``, embedded or not.
    """
    if address in CLOUD_METADATA:
        return "a cloud metadata address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv6Address):
        embedded = embedded_ipv4(address)
        if embedded is not None:
            return address_refusal(embedded, allow_private=allow_private)
        if address in _SITE_LOCAL and not allow_private:
            return "a site-local address"  # ipaddress counts it as global
    if allow_private or address.is_global:
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private address"
    return "a reserved address"


async def system_resolver(host: str, port: int) -> tuple[str, ...]:
    """The host's addresses from the event loop's ``getaddrinfo``, in its order, once each."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    addresses: dict[str, None] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        addresses[str(sockaddr[0]).partition("%")[0]] = None  # drop an IPv6 scope id
    return tuple(addresses)


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to the addresses approved for each host name.

    ``pins`` maps a host (as in the URL, IDNs in punycode) to its approved
    addresses; the checker fills it before it sends a request to that host.
    A host without pins is refused: this backend never resolves a name.
    """

    def __init__(self, pins: Mapping[str, tuple[str, ...]]) -> None:
        self._pins = pins
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = self._pins.get(host)
        if not addresses:
            raise httpcore.ConnectError(f"{host} was not checked against the address policy")
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:  # in the resolver's order, like a browser without happy eyeballs
            try:
                return await self._backend.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                failure = e
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("link checks never use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


# httpcore's exceptions as httpx's, most specific first (what httpx's own transport does).
_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
)


@contextmanager
def _httpx_errors() -> Iterator[None]:
    try:
        yield
    except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError) as e:
        for source, target in _ERRORS:
            if isinstance(e, source):
                raise target(str(e)) from e
        raise  # pragma: no cover - every subclass is listed above
    except httpcore.UnsupportedProtocol as e:
        raise httpx.UnsupportedProtocol(str(e)) from e


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: httpcore.Response, pool: _HostPool) -> None:
        self._response = stream
        self._pool = pool

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors():
            async for part in self._response.aiter_stream():
                yield part

    async def aclose(self) -> None:
        try:
            with _httpx_errors():
                await self._response.aclose()
        finally:
            self._pool.active -= 1


class _HostPool:
    """The connections to one origin, and how many requests use them now."""

    def __init__(self, pool: httpcore.AsyncConnectionPool) -> None:
        self.pool = pool
        self.active = 0


class PinnedTransport(httpx.AsyncBaseTransport):
    """An httpx transport over httpcore pools whose connections go through PinnedBackend.

    httpx's own AsyncHTTPTransport cannot be given a network backend, so this
    is the same small adapter (httpx request → httpcore request → httpx
    response) over pools that can. TLS still verifies the certificate
    against the host name of the URL, not the address.

    One small pool per origin (scheme, host, port), of at most ``per_host``
    kept-alive connections: a single pool of many connections costs httpcore
    a scan of all of them per request, which at a few hundred connections
    takes more time than the requests. At most ``max_origins`` pools are
    kept; beyond that the least recently used idle one is closed.
    """

    def __init__(
        self,
        pins: Mapping[str, tuple[str, ...]],
        *,
        per_host: int,
        max_origins: int,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._backend = PinnedBackend(pins)
        self._ssl_context = ssl_context or httpx.create_ssl_context()
        self._per_host = per_host
        self._max_origins = max_origins
        self._pools: OrderedDict[tuple[bytes, bytes, int | None], _HostPool] = OrderedDict()

    async def _pool(self, origin: tuple[bytes, bytes, int | None]) -> _HostPool:
        pool = self._pools.get(origin)
        if pool is not None:
            self._pools.move_to_end(origin)
            return pool
        pool = self._pools[origin] = _HostPool(
            httpcore.AsyncConnectionPool(
                ssl_context=self._ssl_context,
                max_connections=self._per_host,
                max_keepalive_connections=self._per_host,
                keepalive_expiry=5.0,
                http1=True,
                http2=False,
                retries=0,
                network_backend=self._backend,
            )
        )
        for other, idle in list(self._pools.items()):  # least recently used first
            if len(self._pools) <= self._max_origins:
                break
            if idle.active == 0:
                del self._pools[other]
                await idle.pool.aclose()
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        url = request.url
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        pool = await self._pool((url.raw_scheme, url.raw_host, url.port))
        pool.active += 1
        try:
            with _httpx_errors():
                response = await pool.pool.handle_async_request(core_request)
        except BaseException:
            pool.active -= 1
            raise
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response, pool),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.pool.aclose()
