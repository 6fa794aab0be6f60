"""How an approver's answer (Airflow's HITL payload) becomes saaslens' Approval: who, when, and
whether it counts. The requester's own "Approve" is a refusal unless the instance allows it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from saaslens.governance import Approval
from saaslens.orchestration.governance_tasks import approval_from_answer

AT = datetime(2026, 12, 5, 15, tzinfo=UTC)


def _answer(option: str, user: str) -> dict:
    return {"chosen_options": [option], "responded_by_user": {"id": user, "name": user}, "responded_at": AT}


def test_an_approval_by_someone_else_counts():
    approval = Approval.from_dict(
        approval_from_answer(
            _answer("Approve", "bob"), approve_option="Approve", requester="alice", allow_self_approval=False
        )
    )
    assert approval == Approval(True, "bob", AT)


def test_the_requesters_own_approval_is_a_refusal_that_says_why():
    approval = Approval.from_dict(
        approval_from_answer(
            _answer("Approve", "alice"), approve_option="Approve", requester="alice", allow_self_approval=False
        )
    )
    assert approval is not None and not approval.approved and approval.by == "alice"
    assert approval.refused and "second person must approve" in approval.refused


@pytest.mark.parametrize(
    ("requester", "allow", "approved"),
    [("alice", True, True), (None, False, True), ("carol", False, True)],
    ids=["self-approval-allowed", "requester-unknown", "other-requester"],
)
def test_self_approval_rule_applies_only_to_the_requester_and_only_when_not_allowed(requester, allow, approved):
    data = approval_from_answer(
        _answer("Approve", "alice"), approve_option="Approve", requester=requester, allow_self_approval=allow
    )
    assert data["approved"] is approved and data["refused"] is None


def test_a_rejection_by_the_requester_is_an_ordinary_rejection():
    data = approval_from_answer(
        _answer("Reject", "alice"), approve_option="Approve", requester="alice", allow_self_approval=False
    )
    assert data["approved"] is False and data["refused"] is None


def test_the_answer_round_trips_through_xcom_json():
    data = approval_from_answer(
        _answer("Approve", "alice"), approve_option="Approve", requester="alice", allow_self_approval=False
    )
    import json

    assert Approval.from_dict(json.loads(json.dumps(data))) == Approval.from_dict(data)
