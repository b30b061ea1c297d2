"""The client's address: the peer's, or, only when the peer is a configured reverse proxy
(SELECTION_TRUSTED_PROXIES, none by default), the one it forwards in X-Forwarded-For. One
rule for every use (login throttling, idempotency scopes, logs): the app applies it to the
request itself, and `serve` does not let uvicorn apply another."""

from __future__ import annotations

from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from ..config import get_settings


class ForwardedForMiddleware:
    """Believes X-Forwarded-For (and -Proto) from the configured proxies only."""

    def __init__(self, app):
        self.app = app
        self._inner: tuple[tuple[str, ...], ProxyHeadersMiddleware] | None = None

    async def __call__(self, scope, receive, send):
        trusted = tuple(get_settings().trusted_proxies)
        if not trusted or scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        if self._inner is None or self._inner[0] != trusted:
            self._inner = (trusted, ProxyHeadersMiddleware(self.app, trusted_hosts=list(trusted)))
        return await self._inner[1](scope, receive, send)


def client_address(request) -> str:
    """The request's client address, after the rule above."""
    return request.client.host if request.client else "unknown"
