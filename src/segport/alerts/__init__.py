"""Alerts about run endings: which endings raise one (``rules``), and sending it by e-mail
(``mail``, smtplib) or webhook (``webhook``: JSON, HMAC-SHA256 signed, ``signing``).

Imports only segport's base (``segport.errors``, ``segport.secret``): the services decide
which alerts a run raises and hand this package the run's record. docs/alerts.md
describes the rule syntax, the message, the payload and the signature.
"""

from segport.alerts.delivery import Alert, EmailTarget, WebhookTarget, deliver, deliver_matching
from segport.alerts.environment import secret_from_env
from segport.alerts.mail import SmtpSettings
from segport.alerts.results import DeliveryResult
from segport.alerts.rules import AlertRule, RejectedOver, matches, parse_rule
from segport.alerts.signing import sign, verify
from segport.alerts.webhook import WebhookSettings

__all__ = [
    "Alert",
    "AlertRule",
    "DeliveryResult",
    "EmailTarget",
    "RejectedOver",
    "SmtpSettings",
    "WebhookSettings",
    "WebhookTarget",
    "deliver",
    "deliver_matching",
    "matches",
    "parse_rule",
    "secret_from_env",
    "sign",
    "verify",
]
