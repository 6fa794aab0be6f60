"""Google Workspace sandbox personality (Admin SDK Directory and Reports, Drive v3, OAuth token)."""

from saaslens.sandbox.google_workspace.api import GoogleWorkspacePersonality

__all__ = ["GoogleWorkspacePersonality"]
