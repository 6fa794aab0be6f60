"""The personality kit: the conventions several providers share, written once.

Each personality (``saaslens_sandbox/<app>/``) emulates one provider; what differs between
providers (their error codes, their wording, their limits) stays there. What recurs is here:

* :mod:`.auth`: reading an ``Authorization`` header, a ``WWW-Authenticate`` challenge, the OAuth
  2.0 token endpoint's error body (RFC 6749 section 5.2) and access tokens that stop working
  mid-scan (the ``token_max_requests`` / ``token_max_seconds`` faults);
* :mod:`.paging`: where a provider puts a listing's items and its continuation (a ``Link``
  header, a cursor or page token in the body, a next URL in the body), ``Link`` header values and
  the unpadded base64url its opaque cursors are made of;
* :mod:`.ratelimit`: fixed-window counting per endpoint bucket, the rate-limit header families
  and ``Retry-After``;
* :mod:`.faults`: which faults a tenant injects, drawn from a stream seeded by the tenant;
* :mod:`.errors`: the HTML error page a proxy in front of an API answers with;
* :mod:`.audit`: audit logs served in the order providers document, and events that become
  visible only some time after they happened.

The framework (``core``) uses the kit for what every tenant gets (faults, rate limits); a
personality uses it for the conventions it shares with other providers.
"""
