"""What the engine needs of an export, built from the workspace's run spec."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from segport import __version__
from segport.contacts.mapping import ContactMapping


@dataclass(frozen=True)
class ExportTarget:
    """One export as the engine sees it: where to send, how to map, what is allowed."""

    export_id: int
    name: str
    list_id: int
    mode: str  # "add" | "mirror"
    profile_limit: int
    email: str
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    first_name_attribute: str = "FIRSTNAME"
    last_name_attribute: str = "LASTNAME"
    phone_region: str = "GB"
    phone_country_column: str | None = None
    # Where the list lives: what Brevo holds from this export belongs to one target.
    connection_id: int | None = None
    base_url: str = ""
    account: str | None = None  # the account's email as GET /account gave it (None: unknown)
    connection_name: str = ""
    empty_values: str = "clear"  # "clear": values that became empty are emptied in Brevo
    # Other exports sending to the same list of the same account: (name, state file,
    # their target identity). A mirror export never removes a contact one of them holds.
    list_peers: tuple[tuple[str, str, dict[str, Any]], ...] = ()

    @property
    def mirror(self) -> bool:
        return self.mode == "mirror"

    @property
    def clear_empty(self) -> bool:
        return self.empty_values == "clear"

    def identity(self) -> dict[str, Any]:
        return target_identity(self.connection_id, self.base_url, self.account, self.list_id)

    def _mapping_fields(self) -> dict[str, Any]:
        """The settings that decide which values a contact is sent with (one list for the
        mapping and its digest)."""
        return {
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "phone": self.phone,
            "attributes": dict(self.attributes),
            "first_name_attribute": self.first_name_attribute,
            "last_name_attribute": self.last_name_attribute,
            "phone_region": self.phone_region,
        }

    def mapping_digest(self) -> str:
        return mapping_digest(
            **self._mapping_fields(), phone_country_column=self.phone_country_column
        )

    @classmethod
    def from_spec(cls, spec: Any) -> ExportTarget:
        """From ``service.export_configs.RunSpec`` (duck-typed: no import of the layer above)."""
        m = spec.mapping
        return cls(
            export_id=int(spec.export_id),
            name=str(spec.name),
            list_id=int(spec.list_id),
            mode=str(spec.mode or "add"),
            profile_limit=int(spec.profile_limit),
            email=m.email,
            first_name=m.first_name,
            last_name=m.last_name,
            phone=m.phone,
            attributes=tuple((str(k), str(v)) for k, v in dict(m.attributes).items()),
            first_name_attribute=spec.first_name_attribute or "FIRSTNAME",
            last_name_attribute=spec.last_name_attribute or "LASTNAME",
            phone_region=spec.phone_region or "GB",
            phone_country_column=getattr(spec, "phone_country_column", None),
            connection_id=getattr(spec, "connection_id", None),
            base_url=str(spec.connection.base_url),
            account=getattr(spec, "account", None),
            connection_name=str(spec.connection.name),
            empty_values=str(getattr(spec, "empty_values", None) or "clear"),
            list_peers=tuple(
                (str(n), str(p), dict(i)) for n, p, i in getattr(spec, "list_peers", ())
            ),
        )

    def mapping(self, attribute_types: dict[str, str]) -> ContactMapping:
        """The contacts mapping, typed with the account's attribute types."""
        mapped = {a.upper() for a, _ in self.attributes}
        return ContactMapping(
            **self._mapping_fields(),
            phone_country=self.phone_country_column,
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


def mapping_digest(
    *,
    email: str,
    first_name: str | None,
    last_name: str | None,
    phone: str | None,
    attributes: dict[str, str],
    first_name_attribute: str | None,
    last_name_attribute: str | None,
    phone_region: str | None,
    phone_country_column: str | None = None,
) -> str:
    """A digest of the settings that decide which values a contact is sent with."""
    data = {
        "email": email,
        "first_name": [first_name, first_name_attribute or "FIRSTNAME"] if first_name else None,
        "last_name": [last_name, last_name_attribute or "LASTNAME"] if last_name else None,
        "phone": [phone, phone_region or "GB", phone_country_column] if phone else None,
        "attributes": sorted(attributes.items()),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]
