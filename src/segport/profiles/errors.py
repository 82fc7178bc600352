"""Errors of the profile store; each message says what to do."""

from __future__ import annotations


class ProfileError(Exception):
    """The profile store cannot do what was asked; the message says why and what to do."""


class ProfilesNotLoaded(ProfileError):
    """The workspace has no profiles yet."""
