"""The catalog's views on small hand-built lakes where the right answer is plain to see."""

from __future__ import annotations

import json

import pytest

from saaslens.connectors.github.transform import category as github_category
from saaslens.connectors.google_workspace.transform import CATEGORY_BY_APPLICATION
from saaslens.connectors.okta.transform import category as okta_category
from saaslens.connectors.slack.transform import audit_category as slack_category
from saaslens.lake import ocsf
from saaslens.lake.catalog import DERIVED, load_broad_scopes
from saaslens.lake.schema import TABLES
from tests.unit.lake_builder import NOW, LakeBuilder, ago


def rows(con, sql: str, *params) -> list[dict]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


# -- history and point in time ------------------------------------------------------------------


def test_current_history_and_as_of(tmp_path):
    lake = LakeBuilder(tmp_path)
    lake.accounts("okta", "acme", {"account_id": "u1", "is_admin": True}, at=ago(days=2))
    lake.accounts("okta", "acme", {"account_id": "u1"}, {"account_id": "u2"}, at=ago(days=1))
    con = lake.catalog()
    assert con.execute("select count(*) from accounts").fetchone()[0] == 2
    assert con.execute("select count(*) from accounts_history").fetchone()[0] == 3
    as_of = rows(con, "select account_id, is_admin from accounts_as_of(?)", ago(days=1, hours=12))
    assert as_of == [{"account_id": "u1", "is_admin": True}]
    assert con.execute("select count(*) from accounts_as_of(?)", [ago(days=3)]).fetchone()[0] == 0


# -- comments and the documented columns ----------------------------------------------------------


@pytest.fixture(scope="module")
def empty_catalog(tmp_path_factory):
    con = LakeBuilder(tmp_path_factory.mktemp("lake")).catalog()
    yield con
    con.close()


def test_every_column_of_every_view_and_table_has_a_comment(empty_catalog):
    con = empty_catalog
    missing = con.execute(
        "select table_name, column_name from duckdb_columns() "
        "where database_name = current_database() and (comment is null or comment = '')"
    ).fetchall()
    assert missing == []
    uncommented = con.execute(
        "select view_name from duckdb_views() where not internal and (comment is null or comment = '') "
        "union all select table_name from duckdb_tables() where comment is null or comment = ''"
    ).fetchall()
    assert uncommented == []


_DUCKDB_TYPES = {
    "string": "VARCHAR",
    "int64": "BIGINT",
    "bool": "BOOLEAN",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "list<string>": "VARCHAR[]",
}


@pytest.mark.parametrize("derived", DERIVED, ids=lambda d: d.name)
def test_derived_views_have_exactly_the_documented_columns(empty_catalog, derived):
    actual = empty_catalog.execute(
        "select column_name, data_type from duckdb_columns() where table_name = ? order by column_index",
        [derived.name],
    ).fetchall()
    assert actual == [(c.name, _DUCKDB_TYPES[c.type]) for c in derived.columns]


def test_canonical_views_keep_their_columns(empty_catalog):
    for name, table in TABLES.items():
        columns = [r[0] for r in empty_catalog.execute(f"select * from {name} limit 0").description]
        assert columns == table.column_names, name


# -- OCSF -----------------------------------------------------------------------------------------


def test_activities_normalized_maps_actions_to_ocsf(tmp_path):
    lake = LakeBuilder(tmp_path)
    lake.events(
        "okta",
        "acme",
        [
            {"event_id": "e1", "occurred_at": ago(hours=1), "outcome": "failure", "actor_login": "Ada@Acme.COM"},
            {
                "event_id": "e2",
                "occurred_at": ago(hours=1),
                "category": "user",
                "action": "user.account.update_profile",
            },
            {
                "event_id": "e3",
                "occurred_at": ago(hours=1),
                "category": "admin",
                "action": "user.account.privilege.grant",
                "target_name": "bob@acme.com",
            },
        ],
    )
    lake.events(
        "github",
        "acme",
        [
            {"event_id": "g1", "occurred_at": ago(hours=1), "category": "admin", "action": "org.update_member"},
            {"event_id": "g2", "occurred_at": ago(hours=1), "category": "file", "action": "git.push"},
            {"event_id": "g3", "occurred_at": ago(hours=1), "outcome": "unknown", "actor_login": "ada-l"},
        ],
    )
    con = lake.catalog()
    got = {
        r["event_id"]: r
        for r in rows(
            con,
            "select event_id, class_uid, class_name, category_uid, activity_id, activity_name, type_uid, severity_id, "
            "severity, status_id, status, is_mapped, actor_email, target_email from activities_normalized",
        )
    }
    e1 = got["e1"]
    assert (e1["class_uid"], e1["class_name"], e1["category_uid"], e1["activity_id"]) == (3002, "Authentication", 3, 1)
    assert (e1["activity_name"], e1["type_uid"], e1["is_mapped"]) == ("Logon", 300201, True)
    assert (e1["severity_id"], e1["severity"], e1["status_id"], e1["status"]) == (2, "Low", 2, "Failure")
    assert e1["actor_email"] == "ada@acme.com"
    # Unmapped: the category's class, activity 99 Other named by the provider's action.
    e2 = got["e2"]
    assert (e2["class_uid"], e2["activity_id"], e2["activity_name"], e2["is_mapped"]) == (
        6003,
        99,
        "user.account.update_profile",
        False,
    )
    assert (e2["severity_id"], e2["status"]) == (1, "Success")
    e3 = got["e3"]
    assert (e3["class_name"], e3["activity_name"], e3["severity"]) == (
        "User Access Management",
        "Assign Role",
        "Medium",
    )
    assert e3["target_email"] == "bob@acme.com"
    # Mapped to a class but Other within it: still the provider's action as activity name.
    assert (got["g1"]["class_uid"], got["g1"]["activity_id"], got["g1"]["activity_name"]) == (
        3005,
        99,
        "org.update_member",
    )
    assert (got["g2"]["class_name"], got["g2"]["activity_name"]) == ("File Hosting Activity", "Upload")
    assert (got["g3"]["status_id"], got["g3"]["actor_email"]) == (0, None)


def test_ocsf_mappings_agree_with_the_connectors_categories():
    """An action mapped to Authentication must be one the connector files under logon, and a
    logon action must not be mapped to another class: the two classifications cannot drift apart."""
    category_of = {
        "okta": okta_category,
        "slack": slack_category,
        "github": github_category,
        "google_workspace": lambda action: CATEGORY_BY_APPLICATION.get(action.split(".", 1)[0], "user"),
    }
    for mapping in ocsf.ACTION_MAPPINGS:
        if mapping.app not in category_of or mapping.action == "access_log_login":
            continue
        is_logon = category_of[mapping.app](mapping.action) == "logon"
        if mapping.class_uid == 3002:
            assert is_logon, mapping
        elif is_logon:  # a lockout after failed sign-ins is filed under logon but changes the account
            assert (mapping.class_uid, mapping.activity_id) == (3001, 9), mapping


def test_ocsf_definitions_validate_and_refuse_unknown_activities(monkeypatch):
    ocsf.validate()
    bad = [*ocsf.ACTION_MAPPINGS, ocsf.ActionMapping("okta", "x.y", 3002, 7)]
    monkeypatch.setattr(ocsf, "ACTION_MAPPINGS", bad)
    with pytest.raises(ValueError, match=r"\('okta', 'x.y'\): class 3002 has no activity 7"):
        ocsf.validate()


# -- identities -----------------------------------------------------------------------------------


def identities(con) -> dict[tuple[str, str, str], dict]:
    return {(r["app"], r["instance"], r["account_id"]): r for r in rows(con, "select * from identities")}


def test_identities_link_by_normalized_email_and_mark_identity_providers(tmp_path):
    lake = LakeBuilder(tmp_path)
    lake.accounts(
        "okta", "acme", {"account_id": "o1", "email": " Ada.Lovelace@Acme.com ", "status": "suspended"}
    ).accounts("google_workspace", "acme", {"account_id": "g1", "email": "ada.lovelace@acme.com"}).accounts(
        "slack",
        "acme",
        {"account_id": "s1", "email": "ADA.LOVELACE@ACME.COM"},
        {"account_id": "s2", "email": "grace@acme.com"},
        {"account_id": "s3", "email": None, "login": "slackbot", "account_type": "bot"},
    ).accounts("github", "acme", {"account_id": "1", "email": None, "login": "ada-l"})
    got = identities(lake.catalog())
    ada = [got[("okta", "acme", "o1")], got[("google_workspace", "acme", "g1")], got[("slack", "acme", "s1")]]
    assert {a["person_id"] for a in ada} == {"ada.lovelace@acme.com"}
    assert all(a["person_accounts"] == 3 and a["linked_by"] == "email" for a in ada)
    assert ada[0]["person_apps"] == ["google_workspace", "okta", "slack"]
    # Active in two identity providers, suspended in one of them.
    assert ada[2]["idp_instances"] == ["google_workspace/acme", "okta/acme"]
    assert ada[2]["idp_active"] is True and ada[2]["idp_disabled_in"] == ["okta/acme"]
    assert [a["is_identity_provider"] for a in ada] == [True, True, False]
    grace = got[("slack", "acme", "s2")]
    assert (grace["person_id"], grace["person_accounts"], grace["linked_by"]) == ("grace@acme.com", 1, None)
    assert (grace["idp_instances"], grace["idp_active"], grace["idp_disabled_in"]) == ([], None, [])
    # Null email: nothing links the account, so it is its own (unlinked) person.
    for key in (("slack", "acme", "s3"), ("github", "acme", "1")):
        assert got[key]["person_id"] == "unlinked:" + "/".join(key)
        assert got[key]["person_email"] is None and got[key]["person_accounts"] == 1


def test_identities_follow_provider_identity_links_transitively(tmp_path):
    lake = LakeBuilder(tmp_path)
    # Okta: signs in as ada@acme.com (the SAML NameID apps receive) but her email is the long form.
    lake.accounts("okta", "acme", {"account_id": "o1", "login": "ada@acme.com", "email": "ada.lovelace@acme.com"})
    # Slack knows her by the login; Google by an alias of a different primary address.
    lake.accounts("slack", "acme", {"account_id": "s1", "login": "ada", "email": "ada@acme.com"})
    google_raw = {"primaryEmail": "a.lovelace@acme.com", "aliases": ["Ada.Lovelace@acme.com"]}
    lake.accounts(
        "google_workspace",
        "acme",
        {
            "account_id": "g1",
            "login": "a.lovelace@acme.com",
            "email": "a.lovelace@acme.com",
            "raw": json.dumps(google_raw),
        },
    )
    # Entra: a proxy address links; a guest's #EXT# user principal name never does.
    entra_raw = {"proxyAddresses": ["SMTP:countess@acme.com", "smtp:ada@acme.com", "X500:/o=whatever"]}
    lake.accounts(
        "microsoft365",
        "acme",
        {"account_id": "m1", "login": "countess@acme.com", "email": "countess@acme.com", "raw": json.dumps(entra_raw)},
        {
            "account_id": "m2",
            "login": "ada_acme.com#EXT#@contoso.onmicrosoft.com",
            "email": "bob@partner.example",
            "account_type": "guest",
        },
    )
    con = lake.catalog()
    got = identities(con)
    ada_accounts = [("okta", "acme", "o1"), ("slack", "acme", "s1"), ("google_workspace", "acme", "g1")]
    ada_accounts.append(("microsoft365", "acme", "m1"))
    # The preferred email is the smallest identity-provider primary email of the person.
    assert {got[k]["person_id"] for k in ada_accounts} == {"a.lovelace@acme.com"}
    assert got[("okta", "acme", "o1")]["linked_by"] == "email, login"
    assert got[("slack", "acme", "s1")]["linked_by"] == "email"
    assert got[("google_workspace", "acme", "g1")]["linked_by"] == "alias"
    assert got[("microsoft365", "acme", "m1")]["linked_by"] == "proxy_address"
    assert got[("microsoft365", "acme", "m2")]["person_id"] == "bob@partner.example"
    keys = rows(con, "select key, source from identity_keys where account_id = 'm2' order by all")
    assert keys == [{"key": "bob@partner.example", "source": "email"}]


def test_identities_as_of_reads_the_snapshot_current_then(tmp_path):
    lake = LakeBuilder(tmp_path)
    lake.accounts("okta", "acme", {"account_id": "o1", "email": "ada@acme.com"}, at=ago(days=10))
    lake.accounts("okta", "acme", {"account_id": "o1", "email": "ada@acme.com", "status": "suspended"}, at=ago(days=1))
    lake.accounts("slack", "acme", {"account_id": "s1", "email": "ada@acme.com"}, at=ago(days=10))
    con = lake.catalog()
    then = rows(con, "select idp_disabled_in from identities_as_of(?) where app = 'slack'", ago(days=5))
    now = rows(con, "select idp_disabled_in from identities where app = 'slack'")
    assert then == [{"idp_disabled_in": []}]
    assert now == [{"idp_disabled_in": ["okta/acme"]}]


# -- reference tables -----------------------------------------------------------------------------


def test_broad_scopes_table_comes_from_the_csv(empty_catalog):
    con = empty_catalog
    assert ("okta", "okta.users.manage") in con.execute("select app, scope from broad_scopes").fetchall()
    assert {r[0] for r in con.execute("select app from identity_provider_apps").fetchall()} == {
        "okta",
        "google_workspace",
        "microsoft365",
    }


def test_broad_scope_list_errors_name_file_and_line(tmp_path):
    path = tmp_path / "broad_scopes.csv"
    path.write_text("app,scope,why\nokta,okta.users.manage,ok\nslack,,missing scope\n")
    with pytest.raises(ValueError, match=rf"{path}:3: app, scope and why must all be given"):
        load_broad_scopes(path)
    path.write_text("app,scope\nokta,x\n")
    with pytest.raises(ValueError, match=rf"{path}:1: columns must be app,scope,why"):
        load_broad_scopes(path)


def test_catalog_sees_a_snapshot_published_after_it_was_built(tmp_path):
    lake = LakeBuilder(tmp_path)
    con = lake.catalog()
    assert con.execute("select count(*) from identities").fetchone()[0] == 0
    con.close()
    lake.accounts("okta", "acme", {"account_id": "o1", "email": "ada@acme.com"}, at=NOW)
    from saaslens.lake.catalog import connect

    with connect(tmp_path) as again:
        assert again.execute("select person_id from identities").fetchall() == [("ada@acme.com",)]
