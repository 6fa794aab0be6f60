"""Where a connector finds a credential in an Airflow connection: the extra field first, else the
form field Airflow shows, else an error naming both and what they must hold (never the value)."""

from __future__ import annotations

import pytest

from saaslens.connections import ConnectionInfo, ConnectionInvalidError


def test_the_extra_field_wins_over_the_form_field() -> None:
    info = ConnectionInfo("acme", login="form-id", extra={"client_id": "extra-id"})
    assert info.extra_or("client_id", "login", "the client id") == "extra-id"


def test_the_form_field_is_used_when_the_extra_is_empty() -> None:
    info = ConnectionInfo("acme", password="pem-in-password", extra={"private_key": ""})
    assert info.extra_or("private_key", "password", "the private key") == "pem-in-password"


def test_neither_names_both_places_and_what_they_must_hold() -> None:
    info = ConnectionInfo("acme_conn", login=None, extra={})
    with pytest.raises(ConnectionInvalidError) as caught:
        info.extra_or("client_id", "login", "the app registration's application (client) id")
    message = str(caught.value)
    assert "'acme_conn'" in message
    assert "extra.client_id (or login) is empty" in message
    assert "application (client) id" in message
