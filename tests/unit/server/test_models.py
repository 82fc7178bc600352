"""The API's models agree with the services they render."""

from __future__ import annotations

from typing import get_args

from segport.server.api.models import RunStatus
from segport.service import RUN_STATUSES


def test_the_run_status_filter_lists_every_status_a_run_can_have() -> None:
    assert get_args(RunStatus) == tuple(RUN_STATUSES)


def test_the_role_literal_lists_every_role() -> None:
    from segport.server.api.admin_models import Role as RoleLiteral
    from segport.service import Role

    assert set(get_args(RoleLiteral)) == {r.value for r in Role}


def test_the_admin_models_carry_every_field_of_the_views_they_render() -> None:
    # A field a view gains is not dropped silently by the API (and a model never adds one
    # a view lacks, such as a key).
    import dataclasses

    from segport.server.api import admin_models as m
    from segport.service import AuditView, ConnectionSummary, ConnectionView, TokenView, UserView

    pairs = [
        (m.UserOut, UserView),
        (m.TokenOut, TokenView),
        (m.ConnectionOut, ConnectionView),
        (m.ConnectionBrief, ConnectionSummary),
        (m.AuditEntry, AuditView),
    ]
    for model, view in pairs:
        assert set(model.model_fields) == {f.name for f in dataclasses.fields(view)}, model
