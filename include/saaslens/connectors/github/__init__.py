from saaslens.connectors.github.connector import GitHubConnector

__all__ = ["GitHubConnector"]
