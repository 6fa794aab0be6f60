"""Google Workspace connector (Admin SDK Directory and Reports, Drive v3) with domain-wide delegation."""

from saaslens.connectors.google_workspace.connector import GoogleWorkspaceConnector

__all__ = ["GoogleWorkspaceConnector"]
