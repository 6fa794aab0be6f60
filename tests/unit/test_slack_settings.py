"""The Slack settings stage's trimming (connectors/slack/settings.py): faithful field names, nothing a
rule reads invented, a field Slack left out left out."""

from __future__ import annotations

from saaslens.connectors.slack.settings import NOT_EXPOSED, _admin, _app


def test_an_app_keeps_what_the_rules_read_under_slacks_names():
    approved = {
        "app": {
            "id": "A1",
            "name": "Drive",
            "is_app_directory_approved": False,
            "is_internal": False,
            "icons": {"image_72": "https://x/72.png"},
            "help_url": "https://x/help",
        },
        "scopes": [{"name": "files:read", "description": "View files", "is_sensitive": True, "token_type": "bot"}],
        "date_updated": 1574296707,
        "last_resolved_by": {"actor_id": "W1", "actor_type": "user"},
    }
    assert _app(approved) == {
        "app": {"id": "A1", "name": "Drive", "is_app_directory_approved": False, "is_internal": False},
        "scopes": [{"name": "files:read", "is_sensitive": True, "token_type": "bot"}],
        "date_updated": 1574296707,
    }
    request = {"id": "Ar1", "app": {"id": "A2"}, "date_created": 5, "previous_resolution": {"status": "restricted"}}
    assert _app(request) == {
        "id": "Ar1",
        "app": {"id": "A2"},
        "scopes": [],
        "date_created": 5,
        "previous_resolution": {"status": "restricted"},
    }


def test_an_admin_without_has_2fa_stays_without_it():
    reported = _admin({"id": "W1", "is_admin": True, "is_owner": False, "has_2fa": False, "email": "a@x"})
    assert reported == {"id": "W1", "is_admin": True, "is_owner": False, "has_2fa": False}
    assert "has_2fa" not in _admin({"id": "W2", "is_admin": True})


def test_not_exposed_settings_name_the_audit_action_that_records_their_changes():
    assert NOT_EXPOSED["two_factor_requirement"] == "pref.two_factor_auth_changed"
    assert NOT_EXPOSED["sso_requirement"] == "pref.sso_setting_changed"
