"""Google Workspace sandbox personality (Admin SDK Directory and Reports, Drive v3, OAuth token)."""

from saaslens_sandbox.google_workspace.api import GoogleWorkspacePersonality

__all__ = ["GoogleWorkspacePersonality"]
