from saaslens.connectors.okta.connector import OktaConnector

__all__ = ["OktaConnector"]
