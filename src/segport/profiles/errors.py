"""Errors of the profile store; each message says what to do."""

from __future__ import annotations

from segport.errors import Invalid, NotFound


class ProfileError(Invalid):
    """The profile store cannot do what was asked; the message says why and what to do."""

    default_code = "profiles_invalid"


class ProfilesNotLoaded(NotFound, ProfileError):
    """The workspace has no profiles yet."""

    default_code = "profiles_not_loaded"
