"""The catalog's views on small hand-built lakes where the right answer is plain to see."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from saaslens.catalog import ocsf
from saaslens.catalog.apps import AppCatalogData, declared
from saaslens.catalog.build import build_catalog, connect
from saaslens.catalog.views import DERIVED
from saaslens.connectors import registry
from saaslens.connectors.github.transform import category as github_category
from saaslens.connectors.google_workspace.transform import CATEGORY_BY_APPLICATION
from saaslens.connectors.kit import BroadScope, IdentityKey, OcsfMapping
from saaslens.connectors.okta.transform import category as okta_category
from saaslens.connectors.slack.transform import audit_category as slack_category
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
    "float64": "DOUBLE",
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
    for app, mapping in declared().ocsf:
        if app not in category_of or mapping.action == "access_log_login":
            continue
        is_logon = category_of[app](mapping.action) == "logon"
        if mapping.class_uid == 3002:
            assert is_logon, mapping
        elif is_logon:  # a lockout after failed sign-ins is filed under logon but changes the account
            assert (mapping.class_uid, mapping.activity_id) == (3001, 9), mapping


def test_ocsf_definitions_validate_and_refuse_unknown_activities():
    for spec in registry.app_specs():
        ocsf.validate(spec.app, spec.ocsf)
    okta = registry.app_spec("okta")
    with pytest.raises(ValueError, match=r"\('okta', 'x.y'\): class 3002 has no activity 7"):
        ocsf.validate("okta", [*okta.ocsf, OcsfMapping("x.y", 3002, 7)])
    with pytest.raises(ValueError, match=r"\('okta', 'x.y'\): unknown severity_id 9"):
        ocsf.validate("okta", [OcsfMapping("x.y", 3002, 1, 9)])
    with pytest.raises(ValueError, match=r"\('okta', 'x.y'\) is given twice"):
        ocsf.validate("okta", [OcsfMapping("x.y", 3002, 1), OcsfMapping("x.y", 3002, 2)])
    # The catalog checks every app's map when it reads the declarations.
    with pytest.raises(ValueError, match=r"\('okta', 'x.y'\): class 3002 has no activity 7"):
        AppCatalogData.of([replace(okta, ocsf=(OcsfMapping("x.y", 3002, 7),))])


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


def test_reference_tables_come_from_the_apps_declarations(empty_catalog):
    con = empty_catalog
    declared_scopes = {(s.app, b.scope, b.why) for s in registry.app_specs() for b in s.broad_scopes}
    assert set(con.execute("select app, scope, why from broad_scopes").fetchall()) == declared_scopes
    assert ("okta", "okta.users.manage") in {(app, scope) for app, scope, _ in declared_scopes}
    assert {r[0] for r in con.execute("select app from identity_provider_apps").fetchall()} == {
        "okta",
        "google_workspace",
        "microsoft365",
    }
    sources = set(con.execute("select app, source from identity_key_sources").fetchall())
    assert sources == {("*", "email"), *((s.app, k.source) for s in registry.app_specs() for k in s.identity_keys)}
    mapped = set(con.execute("select app, action, class_uid, activity_id from ocsf_activity_map").fetchall())
    assert mapped == {(s.app, m.action, m.class_uid, m.activity_id) for s in registry.app_specs() for m in s.ocsf}


def test_a_new_apps_declaration_reaches_the_catalog_with_no_edit_to_it(tmp_path):
    """An app the catalog has never heard of: its identity key links people, it is an identity
    provider, and its OCSF map and broad scopes are rows of the reference tables."""
    okta = registry.app_spec("okta")
    acme_connector = type("AcmeConnector", (okta.connector,), {"app": "acme", "title": "Acme"})
    acme = replace(
        okta,
        connector=acme_connector,
        ocsf=(OcsfMapping("acme.signin", 3002, 1),),
        identity_keys=(IdentityKey("login", "[login]", "Acme signs people in by their corporate email."),),
        identity_provider="Acme SSO",
        broad_scopes=(BroadScope("acme:admin", "Everything in the Acme org"),),
    )
    lake = LakeBuilder(tmp_path)
    lake.accounts("acme", "corp", {"account_id": "a1", "login": "Ada@Acme.com", "email": None, "status": "suspended"})
    lake.accounts("slack", "corp", {"account_id": "s1", "email": "ada@acme.com"})
    lake.events("acme", "corp", [{"event_id": "e1", "occurred_at": ago(hours=1), "action": "acme.signin"}])
    build_catalog(tmp_path, AppCatalogData.of([*registry.app_specs(), acme]))
    with connect(tmp_path) as con:
        people = identities(con)
        assert people[("slack", "corp", "s1")]["person_id"] == people[("acme", "corp", "a1")]["person_id"]
        assert people[("acme", "corp", "a1")]["linked_by"] == "login"
        assert people[("slack", "corp", "s1")]["idp_disabled_in"] == ["acme/corp"]
        assert ("acme", "Acme SSO") in con.execute("select * from identity_provider_apps").fetchall()
        assert ("acme", "acme:admin") in con.execute("select app, scope from broad_scopes").fetchall()
        event = rows(con, "select class_uid, activity_name, is_mapped from activities_normalized where app = 'acme'")
        assert event == [{"class_uid": 3002, "activity_name": "Logon", "is_mapped": True}]
    # Without its declaration the same lake links nobody through the login and knows no such provider.
    build_catalog(tmp_path)
    with connect(tmp_path) as con:
        people = identities(con)
        assert people[("acme", "corp", "a1")]["person_id"].startswith("unlinked:")
        assert people[("slack", "corp", "s1")]["idp_disabled_in"] == []


def test_catalog_sees_a_snapshot_published_after_it_was_built(tmp_path):
    lake = LakeBuilder(tmp_path)
    con = lake.catalog()
    assert con.execute("select count(*) from identities").fetchone()[0] == 0
    con.close()
    lake.accounts("okta", "acme", {"account_id": "o1", "email": "ada@acme.com"}, at=NOW)
    with connect(tmp_path) as again:
        assert again.execute("select person_id from identities").fetchall() == [("ada@acme.com",)]
