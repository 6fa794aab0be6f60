"""What the cross-app catalog reads from the apps' declarations.

Each app declares, in its own folder, how its audit actions map to OCSF (ocsf.csv), where its accounts'
identity keys come from and whether it is an identity provider (identity.py), and which OAuth scopes
are broad enough that every grant of them is a finding (scopes.py); its AppSpec carries them. The
catalog's reference tables and identity views are built from every app the registry knows, built-in
or installed as a plug-in, so a new app reaches them without an edit here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from saaslens.catalog import ocsf
from saaslens.connectors import registry
from saaslens.connectors.kit import AppSpec, IdentityKey, OcsfMapping

# Every account may carry an email: the one identity key no app needs to declare.
PRIMARY_EMAIL = IdentityKey("email", "[email]", "The account's primary email.")
EVERY_APP = "*"


@dataclass(frozen=True)
class AppCatalogData:
    """The apps' declarations as the catalog needs them, in app order.

    - `identity_providers`: app -> its title as an identity provider;
    - `identity_keys`: (app, key source), the primary email first for every app ("*");
    - `ocsf`: (app, mapping), each checked against OCSF's classes and activities;
    - `broad_scopes`: (app, scope, why)."""

    identity_providers: tuple[tuple[str, str], ...]
    identity_keys: tuple[tuple[str, IdentityKey], ...]
    ocsf: tuple[tuple[str, OcsfMapping], ...]
    broad_scopes: tuple[tuple[str, str, str], ...]

    @classmethod
    def of(cls, specs: Iterable[AppSpec]) -> AppCatalogData:
        specs = sorted(specs, key=lambda spec: spec.app)
        for spec in specs:
            ocsf.validate(spec.app, spec.ocsf)
            sources = [key.source for key in spec.identity_keys]
            if PRIMARY_EMAIL.source in sources or len(set(sources)) != len(sources):
                raise ValueError(f"{spec.app}: identity key sources must be unique and not {PRIMARY_EMAIL.source!r}")
        return cls(
            identity_providers=tuple((s.app, s.identity_provider) for s in specs if s.identity_provider),
            identity_keys=((EVERY_APP, PRIMARY_EMAIL), *((s.app, key) for s in specs for key in s.identity_keys)),
            ocsf=tuple((s.app, mapping) for s in specs for mapping in s.ocsf),
            broad_scopes=tuple((s.app, b.scope, b.why) for s in specs for b in s.broad_scopes),
        )


def declared() -> AppCatalogData:
    """Every app the registry knows: built-in ones and those installed as plug-ins."""
    return AppCatalogData.of(registry.app_specs())
