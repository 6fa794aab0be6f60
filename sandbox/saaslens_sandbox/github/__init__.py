"""The GitHub personality of the sandbox: an Enterprise Cloud organization behind the REST API.

``saaslens_sandbox.core.APP_REGISTRY`` points at ``saaslens_sandbox.github:GitHubPersonality``.
"""

from saaslens_sandbox.github.api import GitHubPersonality

__all__ = ["GitHubPersonality"]
