"""What the engine needs of an export: its configuration and where its list lives."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from segport import __version__
from segport.contacts.mapping import ContactMapping
from segport.exports.config import ExportConfig


@dataclass(frozen=True)
class ExportTarget:
    """One export as the engine sees it: its configuration, and where its list lives."""

    export_id: int
    config: ExportConfig
    # Where the list lives: what Brevo holds from this export belongs to one target.
    connection_id: int | None = None
    base_url: str = ""
    account: str | None = None  # the account's email as GET /account gave it (None: unknown)
    # Other exports sending to the same list of the same account: (name, state file,
    # their target identity). A mirror export never removes a contact one of them holds.
    list_peers: tuple[tuple[str, str, dict[str, Any]], ...] = ()
    # Those of them with a run going on elsewhere (another worker; states shared through
    # the database): what they hold is changing where no lock here shows it.
    busy_peers: tuple[str, ...] = ()

    @property
    def mirror(self) -> bool:
        return self.config.mirror

    @property
    def clear_empty(self) -> bool:
        return self.config.clear_empty

    def identity(self) -> dict[str, Any]:
        return target_identity(self.connection_id, self.base_url, self.account, self.config.list_id)

    def mapping_digest(self) -> str:
        return mapping_digest(self.config)

    def mapping(self, attribute_types: dict[str, str]) -> ContactMapping:
        """The contacts mapping, typed with the account's attribute types."""
        m = self.config.mapping
        mapped = {a.upper() for a in m.attributes}
        return ContactMapping(
            email=m.email,
            first_name=m.first_name,
            last_name=m.last_name,
            phone=m.phone,
            attributes=dict(m.attributes),
            first_name_attribute=m.brevo_first_name,
            last_name_attribute=m.brevo_last_name,
            phone_region=self.config.region,
            phone_country=self.config.phone_country_column,
            attribute_types={k: v for k, v in attribute_types.items() if k in mapped},
        )


def config_fingerprint(mapping: ContactMapping) -> str:
    """Changes whenever preparing the same profile could give another contact."""
    import duckdb

    data = {
        "version": __version__,
        "duckdb": duckdb.__version__,  # the cache key uses its hash() (stage.py)
        "cache": 3,  # 3: the cache key covers the customer id too
        "email": mapping.email,
        "sources": mapping.sources(),
        "phone": mapping.phone,
        "region": mapping.phone_region,
        "types": dict(sorted(mapping.attribute_types.items())),
    }
    if mapping.phone_country:  # only when set: other exports keep their cache
        data["phone_country"] = mapping.phone_country
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def target_identity(
    connection_id: int | None, base_url: str, account: str | None, list_id: int
) -> dict[str, Any]:
    """What makes a Brevo list the same list: the connection, its account and the list id.

    (The account's email is compared when known: a connection edited to another
    account's key is another target.)
    """
    return {
        "connection_id": connection_id,
        "base_url": base_url.rstrip("/"),
        "account": (account or "").lower() or None,
        "list_id": int(list_id),
    }


def mapping_digest(config: ExportConfig) -> str:
    """A digest of the settings that decide which values a contact is sent with (kept in
    the export's state: the same settings must give the same digest across releases)."""
    m = config.mapping
    data = {
        "email": m.email,
        "first_name": [m.first_name, m.brevo_first_name] if m.first_name else None,
        "last_name": [m.last_name, m.brevo_last_name] if m.last_name else None,
        "phone": [m.phone, config.region, config.phone_country_column] if m.phone else None,
        "attributes": sorted(m.attributes.items()),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
