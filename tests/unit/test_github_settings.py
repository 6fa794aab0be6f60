"""The GitHub settings stage's transforms: what a settings row keeps of GitHub's answers."""

from __future__ import annotations

import json

from saaslens.connectors.github.settings import _owner_filter, organization_value, webhook_value
from saaslens.connectors.settings_reads import read_setting
from saaslens.http.errors import ApiError


def test_the_organization_keeps_githubs_names_and_nulls_and_is_denied_without_owner_fields():
    full = {"login": "acme", "two_factor_requirement_enabled": True, "members_can_fork_private_repositories": None,
            "plan": {"name": "enterprise"}, "billing_email": "b@example.com"}  # fmt: skip
    value = organization_value(full)
    assert value == {"two_factor_requirement_enabled": True, "members_can_fork_private_repositories": None,
                     "plan": "enterprise"}  # fmt: skip
    row = read_setting("organization", "GET /orgs/{org}", lambda: organization_value({"login": "acme"}))
    assert row["status"] == "denied" and "admin:org" in row["reason"]


def test_a_webhook_keeps_what_rules_read_and_no_credentials_in_its_url():
    hook = {
        "id": 7,
        "name": "web",
        "active": True,
        "events": ["push"],
        "config": {"url": "https://bot:pa55@hooks.example.com:8443/in?token=abc", "insecure_ssl": "1",
                   "content_type": "json", "secret": "********"},
    }  # fmt: skip
    value = webhook_value(hook)
    assert value["config"] == {"url": "https://hooks.example.com:8443/in", "insecure_ssl": "1",
                               "content_type": "json", "secret": "********"}  # fmt: skip
    assert "pa55" not in json.dumps(value) and "abc" not in json.dumps(value)
    unsigned = webhook_value({**hook, "config": {"url": "http://x.example.com/h", "insecure_ssl": "0"}})
    assert "secret" not in unsigned["config"]


def test_the_owner_only_filter_refused_is_a_missing_role():
    def refused():
        raise ApiError("Only owners can use this filter.", status=422)

    row = read_setting("members_without_2fa", "GET /orgs/{org}/members?filter=2fa_disabled", _owner_filter(refused))
    assert row["status"] == "denied" and "Only owners" in row["reason"]
