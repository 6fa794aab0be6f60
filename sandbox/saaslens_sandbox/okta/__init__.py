"""The Okta personality of the sandbox (Okta Management API + org authorization server token endpoint).

``saaslens_sandbox.core.APP_REGISTRY`` points at ``saaslens_sandbox.okta:OktaPersonality``.
"""

from saaslens_sandbox.okta.api import OktaPersonality

__all__ = ["OktaPersonality"]
