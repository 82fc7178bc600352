"""Request bodies of the connection operations added to the resource: an edit (rename,
sharing, rate, base URL). Answers are ``admin_models.ConnectionOut``: never a key."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ConnectionEdit(BaseModel):
    """What changes; a field absent or null stays as it is. The service checks every
    value: 422 naming ``name``, ``base_url`` or ``rate`` (the requests per second); a
    name taken: 422 ``workspace_error``. A new base URL is checked with Brevo using the
    saved key before it is saved (502 ``api_key_refused`` or ``brevo_unreachable`` with
    Brevo's word), unless ``verify`` is false. The key itself: ``PUT …/key``."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(
        default=None, min_length=1, max_length=200, description="A new name (a rename)."
    )
    share_with_contributors: bool | None = Field(
        default=None,
        description="true: contributors may put exports on it; false: admins only.",
    )
    requests_per_second: float | None = Field(
        default=None, description="The rate its runs send at: above 0, at most 1000."
    )
    base_url: str | None = Field(
        default=None,
        max_length=2000,
        description="Brevo's API URL (https://api.brevo.com/v3, or a proxy's).",
    )
    verify: bool = Field(
        default=True,
        description="Check a new base URL with Brevo before saving it (false: save it "
        "unchecked; the account shown is then cleared until the next check).",
    )
