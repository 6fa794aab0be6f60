"""Where a client's credentials may go: below its base URL, on its origin, never elsewhere."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import httpx

from saaslens.http.errors import InsecureURLError, MalformedResponseError, RedirectRefusedError, Where
from saaslens.http.redaction import redact_url


class BaseUrl:
    """A client's base URL and the rules for every URL built from it or handed to it."""

    def __init__(self, base_url: str) -> None:
        self.url = base_url.rstrip("/")
        self._origin = urlsplit(self.url)
        self._base_path = self._origin.path.rstrip("/")

    def url_for(self, path_or_url: str) -> str:
        """Absolute URL for a path below the base URL, or for an absolute URL (a next link, a
        redirect) that stays on the base URL's origin and below its path.

        A path is appended to the base URL's path, never resolved against it (urljoin would let
        `../` or a leading `//host` walk out), and a dot-segment in it is refused: URL parsers
        remove those (RFC 3986 section 5.2.4), so `/users/../../admin` would leave the base path
        on the wire. Provider ids go in through `api_path`, one encoded segment each."""
        if path_or_url.startswith(("http://", "https://")):
            parts = urlsplit(path_or_url)
            if (parts.scheme, parts.netloc) != (self._origin.scheme, self._origin.netloc):
                raise InsecureURLError(
                    f"refusing to follow {redact_url(path_or_url)!r}: it leaves {self._origin.scheme}://"
                    f"{self._origin.netloc}, and the credentials must not go with it"
                )
            self._require_below_base(path_or_url, parts.path)
            return path_or_url
        path = path_or_url.lstrip("/")
        url = f"{self.url}/{path}"
        self._require_below_base(url, urlsplit(url).path)
        return url

    def _require_below_base(self, url: str, path: str) -> None:
        segments = [unquote(segment) for segment in path.split("/")]
        below = not self._base_path or path == self._base_path or path.startswith(self._base_path + "/")
        if below and "." not in segments and ".." not in segments:
            return
        raise InsecureURLError(
            f"refusing {redact_url(url)!r}: its path leaves {self._base_path or '/'} of {self._origin.scheme}://"
            f"{self._origin.netloc} (a dot-segment or another prefix), and the credentials must not go with it"
        )

    def relative_path(self, url: str) -> str:
        """The path of `url` below the base URL (the sandbox mounts tenants under a prefix)."""
        path = urlsplit(url).path
        base = self._base_path
        return path[len(base) :] if base and path.startswith(base) else path

    def redirect_target(self, method: str, response: httpx.Response) -> str:
        """Where a 3xx points, if the credentials may go there: the same origin and below the
        base path, for a GET or HEAD (a redirected POST would re-send its body)."""
        where = Where(status=response.status_code, method=method, url=redact_url(str(response.request.url)))
        location = response.headers.get("location")
        if not location:
            raise MalformedResponseError("answered a redirect without a Location header", **where)
        target = str(response.request.url.join(location))
        if method not in ("GET", "HEAD"):
            raise RedirectRefusedError(f"refusing a redirect of a {method} to {redact_url(target)!r}", **where)
        try:
            return self.url_for(target)
        except InsecureURLError:
            raise RedirectRefusedError(
                f"refusing the redirect to {redact_url(target)!r}: redirects are followed only on "
                f"{self._origin.scheme}://{self._origin.netloc}{self._base_path}, so the credentials do not follow it",
                **where,
            ) from None
