from __future__ import annotations

import logging

from saaslens.http.redaction import MASK, RedactingFilter, redact, redact_url, register_secret


def test_registered_secret_is_masked_everywhere():
    register_secret("tenant-secret-0123456789")
    assert "tenant-secret" not in redact("token=tenant-secret-0123456789 in text")


def test_credential_shapes_are_masked_without_registration():
    text = (
        "Authorization: SSWS 00aBcDeFgHiJkLmNoP Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk "
        "client_secret=s3cr3tvalue&x=1 xoxb-123456789-abcdefgh ghp_abcdefghijklmnopqrstuvwxyz12"
    )
    out = redact(text)
    for leaked in ("00aBcDeFgHiJkLmNoP", "eyJzdWIi", "s3cr3tvalue", "xoxb-123456789", "ghp_abcdef"):
        assert leaked not in out
    assert out.startswith(f"Authorization: SSWS {MASK}")


def test_private_key_block_and_its_lines_are_masked():
    key = (
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
        "ABCDEFGHIJKLMNOPQRSTUVWX\n-----END PRIVATE KEY-----"
    )
    register_secret(key)
    assert "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in redact("line: MIIEvQIBADANBgkqhkiG9w0BAQEFAASC")
    assert "BEGIN PRIVATE KEY" not in redact(f"key {key}")


def test_url_userinfo_and_sensitive_query_are_dropped():
    out = redact_url("https://user:pw@x.example.com/p?access_token=abc&after=00u1&sig=zz")
    assert "pw" not in out and "abc" not in out and "zz" not in out and "after=00u1" in out


def test_log_filter_masks_args():
    register_secret("log-secret-abcdef123")
    record = logging.LogRecord("saaslens", logging.INFO, __file__, 1, "using %s", ("log-secret-abcdef123",), None)
    RedactingFilter().filter(record)
    assert "log-secret" not in record.getMessage()


def test_short_values_are_not_registered():
    register_secret("abc")
    assert redact("abc def") == "abc def"
