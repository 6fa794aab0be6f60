from saaslens.connectors.slack.connector import SlackConnector

__all__ = ["SlackConnector"]
