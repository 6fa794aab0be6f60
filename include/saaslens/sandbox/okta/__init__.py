"""The Okta personality of the sandbox (Okta Management API + org authorization server token endpoint).

``saaslens.sandbox.core.APP_REGISTRY`` points at ``saaslens.sandbox.okta:OktaPersonality``.
"""

from saaslens.sandbox.okta.api import OktaPersonality

__all__ = ["OktaPersonality"]
