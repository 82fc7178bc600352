"""The services behind the server, called directly: sessions end when they expire or are
ended, and the runs' page refuses what it cannot filter on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.fixtures.server import PASSWORDS, Web

from segport.errors import Forbidden, Invalid
from segport.secret import Secret
from segport.service import end_web_session, page_runs, sign_in, web_session


def test_a_session_lives_until_it_expires_or_ends(web: Web) -> None:
    new = sign_in(
        web.ws, "victor", Secret(PASSWORDS["victor"], scrub=False), lifetime=timedelta(hours=1)
    )
    view = web_session(web.ws, new.session_id)
    assert view.actor.name == "victor" and view.csrf_token == new.view.csrf_token
    with pytest.raises(Forbidden) as expired:
        web_session(web.ws, new.session_id, now=view.expires_at + timedelta(seconds=1))
    assert expired.value.code == "session_invalid"
    with pytest.raises(Forbidden):
        end_web_session(web.ws, new.session_id, csrf_token="not its token")
    web_session(web.ws, new.session_id)  # a wrong token ended nothing
    end_web_session(web.ws, new.session_id, csrf_token=new.view.csrf_token)
    with pytest.raises(Forbidden):
        web_session(web.ws, new.session_id)
    end_web_session(web.ws, new.session_id)  # ending it again does nothing


def test_a_wrong_password_starts_no_session(web: Web) -> None:
    with pytest.raises(Forbidden) as caught:
        sign_in(web.ws, "victor", Secret("wrong password", scrub=False), lifetime=timedelta(1))
    assert caught.value.code == "bad_credentials"


def test_the_runs_page_refuses_an_unknown_status_and_a_negative_page(web: Web) -> None:
    viewer = web.actor("victor")
    with pytest.raises(Invalid) as status:
        page_runs(web.ws, viewer, status="sleeping")
    assert (status.value.code, status.value.field) == ("run_status_invalid", "status")
    with pytest.raises(Invalid):
        page_runs(web.ws, viewer, offset=-1)
