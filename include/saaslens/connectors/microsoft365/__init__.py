"""Microsoft 365 (Entra ID, audit logs, OneDrive and SharePoint) through Microsoft Graph v1.0."""

from saaslens.connectors.microsoft365.connector import Microsoft365Connector

__all__ = ["Microsoft365Connector"]
