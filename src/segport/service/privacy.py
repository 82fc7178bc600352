"""The data privacy and compliance statement an admin agrees to when adding a connection.

The version is stored with each consent, so a changed statement can be told apart from the
one a past admin agreed to.
"""

from __future__ import annotations

PRIVACY_VERSION = "2026-11-1"

PRIVACY_STATEMENT = """\
Data privacy and compliance

A connection lets segport send customer data from this workspace to a Brevo
(Sendinblue) account: email addresses and whatever profile fields the exports on it map
(names, phone numbers, other attributes). That data may be personal or sensitive.

- Exports move this data outside segport, on your instruction. Once in Brevo it is
  governed by your agreement with Brevo and Brevo's own privacy and security terms.
- You are responsible for making sure that sending this data to Brevo meets your
  organisation's privacy, security and compliance obligations (e.g. GDPR: a lawful basis,
  a data processing agreement with Brevo, and honouring people's opt-outs).
- segport never re-subscribes a contact who unsubscribed in Brevo and never deletes a
  Brevo contact, but what happens to the data in Brevo afterwards is up to you.
- An admin can remove the connection at any time; a connection with exports cannot be
  removed until those exports are removed or detached.

Your consent is recorded with your user name and the time."""
