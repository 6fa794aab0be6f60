"""The registry loads declarations only: what an entry point or a built-in line names must be an
AppSpec for that app, and anything else is refused with a message naming the target."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from saaslens.connectors import registry
from saaslens.connectors.okta import APP as OKTA_APP


@pytest.fixture
def targets(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    table = dict(registry.BUILT_IN)
    monkeypatch.setattr(registry, "_targets", lambda: table)
    registry.app_spec.cache_clear()
    yield table
    registry.app_spec.cache_clear()


def test_every_built_in_line_names_its_apps_declaration() -> None:
    for app in registry.BUILT_IN:
        spec = registry.app_spec(app)
        assert spec.app == app
        assert spec.stage_names, app


def test_a_connector_class_is_refused_with_the_way_to_declare_it(targets: dict[str, str]) -> None:
    targets["acme"] = "saaslens.connectors.okta.connector:OktaConnector"
    with pytest.raises(registry.ConnectorLoadError, match=r"'acme'.*OktaConnector.*is a class, not an AppSpec"):
        registry.app_spec("acme")


def test_a_declaration_for_another_app_is_refused(targets: dict[str, str]) -> None:
    targets["acme"] = "saaslens.connectors.okta:APP"
    with pytest.raises(registry.ConnectorLoadError, match="declares the app 'okta'"):
        registry.app_spec("acme")
    assert OKTA_APP.app == "okta"


def test_a_missing_module_names_the_target(targets: dict[str, str]) -> None:
    targets["acme"] = "saaslens_acme_not_installed:APP"
    with pytest.raises(registry.ConnectorLoadError, match="saaslens_acme_not_installed:APP"):
        registry.app_spec("acme")


def test_an_unknown_app_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"known: (\w+, )*github, google_workspace, microsoft365, okta"):
        registry.app_spec("nope")
