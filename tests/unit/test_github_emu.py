"""Enterprise Managed Users, the pure parts: GitHub's username normalization (the examples of its
documentation), the login-to-identity link, the PatchOp body, SCIM filters and paging, and the
suspended state the users stage derives."""

from __future__ import annotations

import httpx
import pytest

from saaslens.connectors.github import emu, transform
from saaslens.http.pagination import PageRequest
from saaslens_sandbox.github import emu as sandbox_emu


# username-considerations-for-external-authentication, "Examples of username normalization" and the
# Entra ID rows (what precedes @ in the UPN, casing kept).
@pytest.mark.parametrize(
    ("identifier", "normalized"),
    [
        ("The.Octocat", "The-Octocat"),
        ("!The.Octocat", "-The-Octocat"),
        ("The!!Octocat", "The--Octocat"),
        ("The.Octocat@example.com", "The-Octocat"),
        ("internal\\The.Octocat", "The-Octocat"),
        ("bob@contoso.com", "bob"),
        ("E012345", "E012345"),
    ],
)
def test_normalization_follows_githubs_examples(identifier, normalized):
    assert emu.normalize_username(identifier) == normalized
    assert sandbox_emu.normalize_username(identifier) == normalized  # the sandbox applies the same rule


def test_a_managed_login_links_to_the_identity_it_was_made_from():
    assert emu.split_managed_login("mona-cat_octo") == ("mona-cat", "octo")
    assert emu.split_managed_login("octocat") is None and emu.split_managed_login("_octo") is None
    assert emu.login_links("Mona-Cat_octo", "mona.cat@example.com")  # logins compare case-insensitively
    assert emu.login_links("mona-cat_octo", "corp\\mona.cat")
    assert not emu.login_links("mona-cat_octo", "mona.cat2@example.com")
    assert not emu.login_links("b7c64561358a7afa_octo", "mona.cat@example.com")  # an obfuscated login
    assert not emu.login_links("mona-cat", "mona.cat@example.com")  # no shortcode: not a managed user


def test_the_patch_body_is_the_one_github_documents():
    assert emu.deactivate_body() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": False}],
    }
    assert emu.deactivate_body(True)["Operations"][0]["value"] is True


def test_filters_quote_their_value_and_the_sandbox_reads_them_back():
    expression = emu.scim_filter("userName", 'odd"name\\x')
    assert expression == 'userName eq "odd\\"name\\\\x"'
    assert sandbox_emu.parse_filter(expression) == ("userName", 'odd"name\\x')
    with pytest.raises(sandbox_emu.ScimFilterError):
        sandbox_emu.parse_filter('emails eq "x"')


def test_identity_state_never_carries_emails_or_names():
    resource = {
        "id": "7fce",
        "userName": "E012345",
        "externalId": "E012345",
        "active": False,
        "emails": [{"value": "mlisa@example.com"}],
        "name": {"givenName": "Mona"},
        "roles": [{"value": "user"}, {"value": "enterprise_owner"}],
    }
    state = emu.identity_state(emu.checked_resource(resource))
    assert state == {
        "scim_user_id": "7fce",
        "userName": "E012345",
        "externalId": "E012345",
        "active": False,
        "roles": ["user", "enterprise_owner"],
    }
    for hostile in ({"id": "x", "userName": "u", "active": "false"}, {"userName": "u", "active": True}, []):
        with pytest.raises(ValueError, match="SCIM identity"):
            emu.checked_resource(hostile)


def test_scim_paging_is_one_based_and_stops_at_the_total():
    paginator = emu.ScimPaginator(count=2)
    first = PageRequest(url="https://api.github.com/scim/v2/enterprises/e/Users", params=paginator.first_params())
    response = httpx.Response(200)
    following = paginator.next_request(first, response, {"totalResults": 5}, [{}, {}])
    assert following is not None and following.params["startIndex"] == 3
    last = PageRequest(url=first.url, params={"startIndex": 5, "count": 2})
    assert paginator.next_request(last, response, {"totalResults": 5}, [{}]) is None
    assert paginator.next_request(following, response, {"totalResults": 4}, [{}, {}]) is None


def test_a_managed_member_without_an_active_identity_is_suspended():
    row = {"login": "mona-cat_octo", "status": "active", "provider_status": "member"}
    assert transform.managed_status(row, frozenset({"mona-cat"})) == row
    assert transform.managed_status(row, frozenset())["status"] == "suspended"
    assert transform.managed_status(row, None) == row  # the SCIM state was not read
    assert transform.managed_status({**row, "login": "octo_admin"}, frozenset()) == {**row, "login": "octo_admin"}
    assert transform.managed_status({**row, "login": "plain-user"}, frozenset()) == {**row, "login": "plain-user"}
