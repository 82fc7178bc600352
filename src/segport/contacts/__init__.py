"""Contacts: profile batches in, Brevo contacts, reject rows and import bodies out.

Pure: Arrow in, Arrow out; no network, files or database. A run uses it like this (the
de-duplication and fingerprints of a run are SQL over the export state:
:mod:`segport.exports.current`, :mod:`segport.exports.fingerprint`)::

    mapping = ContactMapping(email="email", first_name="first_name", phone="phone",
                             phone_region="GB", attributes={"CITY": "city"})
    with PhoneParser() as parser:                       # one per run; may start processes
        for batch in members:                           # Arrow record batches
            prepared = prepare_batch(batch, mapping, "customer_id", phone_parser=parser)
            # the engine stores prepared.contacts and prepared.rejects in its state
    for chunk in iter_import_chunks(changed, mapping.attribute_columns,
                                    carry=[CUSTOMER_ID_COLUMN]):
        client.import_contacts(file_body=chunk.body, list_ids=[list_id])

See docs/contacts.md for the rules (email, phone, dedupe, coercion), the reason codes and
the body format measurements.
"""

from segport.contacts.cells import csv_lines, header_line
from segport.contacts.chunks import (
    DEFAULT_ENVELOPE_BYTES,
    DEFAULT_MAX_BYTES,
    ImportChunk,
    RowTooLargeError,
    iter_import_chunks,
)
from segport.contacts.coerce import OUTPUT_TYPES, Coerced, coerce
from segport.contacts.emails import EMAIL_PATTERN, EmailCheck, check_emails
from segport.contacts.mapping import (
    CUSTOMER_ID_COLUMN,
    EMAIL_COLUMN,
    SMS_COLUMN,
    UPDATED_AT_COLUMN,
    AttributeType,
    ContactMapping,
    MappingError,
)
from segport.contacts.phones import PhoneCheck, PhoneParser, default_backend
from segport.contacts.prepare import PreparedBatch, prepare_batch
from segport.contacts.rejects import (
    REJECT_SCHEMA,
    Effect,
    Outcome,
    Reason,
    concat_rejects,
    empty_rejects,
    reject_table,
)

__all__ = [
    "CUSTOMER_ID_COLUMN",
    "DEFAULT_ENVELOPE_BYTES",
    "DEFAULT_MAX_BYTES",
    "EMAIL_COLUMN",
    "EMAIL_PATTERN",
    "OUTPUT_TYPES",
    "REJECT_SCHEMA",
    "SMS_COLUMN",
    "UPDATED_AT_COLUMN",
    "AttributeType",
    "Coerced",
    "ContactMapping",
    "Effect",
    "EmailCheck",
    "ImportChunk",
    "MappingError",
    "Outcome",
    "PhoneCheck",
    "PhoneParser",
    "PreparedBatch",
    "Reason",
    "RowTooLargeError",
    "check_emails",
    "coerce",
    "concat_rejects",
    "csv_lines",
    "default_backend",
    "empty_rejects",
    "header_line",
    "iter_import_chunks",
    "prepare_batch",
    "reject_table",
]
