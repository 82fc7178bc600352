"""The profile store: unified customer profiles, and queries over them that stream Arrow."""

from segport.profiles.errors import ProfileError, ProfilesNotLoaded
from segport.profiles.store import DuckDBStore, PostgresStore, ProfileStore, open_profile_store

__all__ = [
    "DuckDBStore",
    "PostgresStore",
    "ProfileError",
    "ProfileStore",
    "ProfilesNotLoaded",
    "open_profile_store",
]
