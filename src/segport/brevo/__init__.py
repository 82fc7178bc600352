"""segport's client of the Brevo API v3 (contacts, lists, imports, processes).

The public face of the package: import from ``segport.brevo``, not from its modules.
See docs/brevo-client.md for the pacing and retry policy. The sandbox server lives in
``segport.brevo.sandbox`` and is not imported here.
"""

from segport.brevo.client import BrevoClient
from segport.brevo.errors import (
    AuthenticationError,
    BrevoError,
    InvalidRequestError,
    NotFoundError,
    ProcessTimeoutError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from segport.brevo.models import (
    Account,
    Attribute,
    AttributeOption,
    Contact,
    ContactList,
    Folder,
    ImportReport,
    ListChangeResult,
    ListContactsPage,
    Plan,
    Process,
)
from segport.brevo.payloads import format_brevo_datetime
from segport.brevo.session import DEFAULT_BASE_URL, DEFAULT_TIMEOUT

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "Account",
    "Attribute",
    "AttributeOption",
    "AuthenticationError",
    "BrevoClient",
    "BrevoError",
    "Contact",
    "ContactList",
    "Folder",
    "ImportReport",
    "InvalidRequestError",
    "ListChangeResult",
    "ListContactsPage",
    "NotFoundError",
    "Plan",
    "Process",
    "ProcessTimeoutError",
    "RateLimitedError",
    "ServerError",
    "TransportError",
    "format_brevo_datetime",
]
