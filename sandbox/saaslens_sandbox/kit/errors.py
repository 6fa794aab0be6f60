"""Error answers that do not come from the provider's API itself.

An API behind a reverse proxy or load balancer sometimes answers with the proxy's own HTML page
instead of the provider's JSON error (a 502 or 503 while the backend is unreachable). Providers
with a page of their own override ``Personality.html_error`` (GitHub's "Unicorn!" page).
"""

from __future__ import annotations

from starlette.responses import Response

_TITLES = {502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable"}


def gateway_html_error(status: int) -> Response:
    """The error page nginx serves for ``status`` (its built-in page, as a proxy in front of an API)."""
    title = _TITLES.get(status, f"{status} Error")
    page = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    return Response(page.encode(), status_code=status, media_type="text/html")
