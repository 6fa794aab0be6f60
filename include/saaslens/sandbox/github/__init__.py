"""The GitHub personality of the sandbox: an Enterprise Cloud organization behind the REST API.

``saaslens.sandbox.core.APP_REGISTRY`` points at ``saaslens.sandbox.github:GitHubPersonality``.
"""

from saaslens.sandbox.github.api import GitHubPersonality

__all__ = ["GitHubPersonality"]
