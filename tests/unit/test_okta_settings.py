"""The Okta settings stage's trimming: Okta's field names kept, absent fields left absent, nulls kept."""

from __future__ import annotations

from saaslens.connectors.okta.settings import access_rule, password_policy, sign_on_rule


def test_a_password_policy_keeps_what_the_rules_read_and_nothing_else():
    doc = {
        "id": "00p1",
        "name": "Default Password Policy",
        "status": "ACTIVE",
        "system": True,
        "priority": 3,
        "description": "not needed",
        "_links": {"self": {"href": "https://x"}},
        "settings": {
            "password": {"complexity": {"minLength": 15}, "age": {"maxAgeDays": 0}},
            "recovery": {"factors": {}},
        },
    }
    assert password_policy(doc) == {
        "id": "00p1",
        "name": "Default Password Policy",
        "status": "ACTIVE",
        "system": True,
        "priority": 3,
        # lockout is absent in the answer, so absent here: a rule tells "not set" from "set to 0"
        "settings": {"password": {"complexity": {"minLength": 15}, "age": {"maxAgeDays": 0}}},
    }


def test_a_deny_rule_has_no_session_and_a_null_stays_null():
    deny = {"id": "0pr1", "name": "Block", "type": "SIGN_ON", "actions": {"signon": {"access": "DENY"}}}
    assert sign_on_rule(deny)["actions"] == {"signon": {"access": "DENY"}}
    catch_all = {
        "id": "rul1",
        "name": "Catch-all Rule",
        "status": "ACTIVE",
        "system": True,
        "conditions": None,
        "actions": {"appSignOn": {"access": "ALLOW", "verificationMethod": None}},
    }
    assert access_rule(catch_all)["actions"] == {"appSignOn": {"access": "ALLOW", "verificationMethod": None}}
    assert "conditions" not in access_rule(catch_all)
