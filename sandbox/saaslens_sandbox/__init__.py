"""A local HTTP server that emulates SaaS provider APIs over deterministic synthetic tenants.

See ``docs/sandbox.md``. The public interface lives in :mod:`saaslens_sandbox.core` and is
re-exported here; personalities (``saaslens_sandbox.okta``...) are imported lazily by app name.
"""

from saaslens_sandbox.core import (
    APP_REGISTRY,
    FaultConfig,
    Personality,
    RateLimitConfig,
    SandboxConfig,
    SandboxConfigError,
    SandboxServer,
    TenantSpec,
    build_app,
    load_sandbox_config,
    serve,
)

__all__ = [
    "APP_REGISTRY",
    "FaultConfig",
    "Personality",
    "RateLimitConfig",
    "SandboxConfig",
    "SandboxConfigError",
    "SandboxServer",
    "TenantSpec",
    "build_app",
    "load_sandbox_config",
    "serve",
]
