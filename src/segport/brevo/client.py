"""segport's Brevo API v3 client: typed methods for the endpoints an export uses.

Deliberately small and ours (not the generated SDK): explicit timeouts, one transport
seam, pacing under the plan's rate, bounded retries, and errors that say what Brevo said.
It never deletes a contact and never sends a blacklist flag, so it cannot unsubscribe,
re-subscribe or remove anyone from Brevo; list membership is the most it changes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import httpx
from tenacity import RetryCallState, Retrying, retry_if_result
from tenacity.wait import wait_exponential

from segport.brevo.errors import InvalidRequestError, ProcessTimeoutError
from segport.brevo.models import (
    Account,
    Attribute,
    Contact,
    ContactList,
    Folder,
    ListChangeResult,
    ListContactsPage,
    Process,
)
from segport.brevo.payloads import (
    CONTACTS_PAGE_SIZE,
    LIST_PAGE_SIZE,
    MAX_IMPORT_BYTES,
    MAX_LIST_CHANGE,
    SortOrder,
    answer_int,
    format_brevo_datetime,
    import_body,
    nothing_changed,
    positive_id,
)
from segport.brevo.session import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, DEFAULT_USER_AGENT, ApiSession
from segport.secret import Secret

log = logging.getLogger("segport.brevo")

__all__ = ["MAX_IMPORT_BYTES", "BrevoClient"]


class BrevoClient:
    """A connection to one Brevo account. Thread-safe; use as a context manager or close().

    ``requests_per_second`` paces ``/contacts`` calls (10 on Brevo's general plan, 20 on
    Advanced, 60 on Enterprise); None turns our own pacing off and leaves only the
    rate-limit headers (the sandbox with rate limits off). See docs/brevo-client.md.
    """

    def __init__(
        self,
        api_key: str | Secret,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        requests_per_second: float | None = 10.0,
        max_retries: int = 5,
        max_rate_limit_wait: float = 60.0,
        max_rate_limited_retries: int = 20,
        initial_backoff: float = 0.5,
        max_backoff: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._session = ApiSession(
            api_key,
            base_url,
            timeout=timeout,
            requests_per_second=requests_per_second,
            max_retries=max_retries,
            max_rate_limit_wait=max_rate_limit_wait,
            max_rate_limited_retries=max_rate_limited_retries,
            initial_backoff=initial_backoff,
            max_backoff=max_backoff,
            transport=transport,
            user_agent=user_agent,
            clock=clock,
            sleep=sleep,
        )
        self._clock = clock
        self._sleep = sleep

    @property
    def base_url(self) -> str:
        return self._session.base_url

    @property
    def requests_sent(self) -> int:
        """HTTP requests sent so far, retries included (for statistics and tests)."""
        return self._session.requests_sent

    @property
    def seconds_paced(self) -> float:
        """Seconds slept so far to stay under the rate limits."""
        return self._session.pacer.slept

    def __repr__(self) -> str:
        return f"BrevoClient(base_url={self.base_url!r})"

    def __enter__(self) -> BrevoClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    # -- account and attributes -----------------------------------------------------

    def get_account(self) -> Account:
        """The account behind the key; the cheapest way to check a key works."""
        return Account.from_api(self._session.call("GET", "/account"))

    def get_attributes(self) -> list[Attribute]:
        data = self._session.call("GET", "/contacts/attributes") or {}
        return [Attribute.from_api(a) for a in data.get("attributes") or []]

    def create_attribute(
        self,
        category: str,
        name: str,
        type: str | None = None,
        *,
        enumeration: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Create a contact attribute, e.g. ``("normal", "LOYALTY_TIER", "text")``."""
        if not category or not name:
            raise ValueError("create_attribute needs a category and a name")
        body: dict[str, Any] = {}
        if type is not None:
            body["type"] = type
        if enumeration is not None:
            body["enumeration"] = [dict(e) for e in enumeration]
        path = f"/contacts/attributes/{quote(category, safe='')}/{quote(name, safe='')}"
        self._session.call("POST", path, json=body, idempotent=False)

    # -- folders and lists ----------------------------------------------------------

    def _paged(self, path: str, key: str) -> Iterator[Mapping[str, Any]]:
        offset = 0
        while True:
            params = {"limit": LIST_PAGE_SIZE, "offset": offset, "sort": "asc"}
            data = self._session.call("GET", path, params=params) or {}
            items = data.get(key) or []
            yield from items
            offset += len(items)
            total = data.get("count")
            if not items or (
                offset >= int(total) if total is not None else len(items) < LIST_PAGE_SIZE
            ):
                return

    def get_folders(self) -> list[Folder]:
        return [Folder.from_api(f) for f in self._paged("/contacts/folders", "folders")]

    def create_folder(self, name: str) -> int:
        if not name.strip():
            raise ValueError("a folder needs a name")
        data = self._session.call(
            "POST", "/contacts/folders", json={"name": name}, idempotent=False
        )
        return int(data["id"])

    def get_lists(self) -> list[ContactList]:
        """Every list of the account (Brevo pages them by 50)."""
        return [ContactList.from_api(x) for x in self._paged("/contacts/lists", "lists")]

    def get_list(self, list_id: int) -> ContactList:
        """One list; NotFoundError when it does not exist in this account."""
        path = f"/contacts/lists/{positive_id(list_id, 'list_id')}"
        return ContactList.from_api(self._session.call("GET", path))

    def create_list(self, name: str, folder_id: int) -> int:
        if not name.strip():
            raise ValueError("a list needs a name")
        body = {"name": name, "folderId": positive_id(folder_id, "folder_id")}
        data = self._session.call("POST", "/contacts/lists", json=body, idempotent=False)
        return answer_int(data, "id", "POST", "/contacts/lists")

    # -- list members -----------------------------------------------------------------

    def list_contacts(
        self,
        list_id: int,
        *,
        limit: int = CONTACTS_PAGE_SIZE,
        offset: int = 0,
        modified_since: datetime | None = None,
        sort: SortOrder | None = None,
    ) -> ListContactsPage:
        """One page of a list's members, and how many it has in all (``count``)."""
        if not 1 <= limit <= CONTACTS_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {CONTACTS_PAGE_SIZE}, got {limit}")
        if offset < 0:
            raise ValueError(f"offset must be 0 or more, got {offset}")
        params: dict[str, Any] = {"limit": limit, "offset": offset, "sort": sort}
        if modified_since is not None:
            params["modifiedSince"] = format_brevo_datetime(modified_since)
        path = f"/contacts/lists/{positive_id(list_id, 'list_id')}/contacts"
        return ListContactsPage.from_api(self._session.call("GET", path, params=params) or {})

    def iter_list_contacts(
        self,
        list_id: int,
        *,
        page_size: int = CONTACTS_PAGE_SIZE,
        modified_since: datetime | None = None,
    ) -> Iterator[Contact]:
        """Every member of a list, page by page (oldest first, so members added while
        we read land on later pages instead of shifting earlier ones)."""
        offset = 0
        while True:
            page = self.list_contacts(
                list_id, limit=page_size, offset=offset, modified_since=modified_since, sort="asc"
            )
            yield from page.contacts
            offset += len(page.contacts)
            if not page.contacts or offset >= page.count:
                return

    def add_to_list(self, list_id: int, emails: Sequence[str]) -> ListChangeResult:
        """Add existing contacts to a list (1 to 150 emails).

        Idempotent, so retried after a lost answer: adding a member again only lists it
        under ``failure``. Brevo answers 400 when no email at all could be added; that is
        returned as a result with every email under ``failure``, not raised.
        """
        return self._change_list(list_id, emails, "add")

    def remove_from_list(self, list_id: int, emails: Sequence[str]) -> ListChangeResult:
        """Remove contacts from a list (1 to 150 emails). The contacts stay in Brevo.

        Idempotent like :meth:`add_to_list`: a contact already out of the list is a failure."""
        return self._change_list(list_id, emails, "remove")

    def _change_list(
        self, list_id: int, emails: Sequence[str], action: Literal["add", "remove"]
    ) -> ListChangeResult:
        if isinstance(emails, str):
            raise TypeError("emails must be a sequence of addresses, not one string")
        if not 1 <= len(emails) <= MAX_LIST_CHANGE:
            raise ValueError(
                f"{action} takes 1 to {MAX_LIST_CHANGE} emails per call, got {len(emails)};"
                " cut the list into chunks (or use import_contacts for additions in bulk)"
            )
        path = f"/contacts/lists/{positive_id(list_id, 'list_id')}/contacts/{action}"
        try:
            data = self._session.call("POST", path, json={"emails": list(emails)})
        except InvalidRequestError as error:
            if nothing_changed(error):
                return ListChangeResult(success=[], failure=list(emails))
            raise
        return ListChangeResult.from_api(data or {})

    # -- import and processes -------------------------------------------------------

    def import_contacts(
        self,
        *,
        list_ids: Sequence[int],
        file_body: str | None = None,
        json_body: Sequence[Mapping[str, Any]] | bytes | None = None,
        update_existing_contacts: bool = True,
        empty_contacts_attributes: bool = False,
        disable_notification: bool = True,
    ) -> int:
        """Start an import of contacts into lists; returns Brevo's process id.

        Give either ``file_body`` (CSV text, ``;``-separated, header line of attribute
        names) or ``json_body`` (``[{"email": ..., "attributes": {...}}]``, or those
        bytes already serialised as a JSON array). The blacklist flags are never sent, so
        an import cannot blacklist anyone nor lift a blacklist. Safe to retry: an import
        is an upsert, so a resubmitted chunk leaves the same contacts.
        """
        content = import_body(
            list_ids=list_ids,
            file_body=file_body,
            json_body=json_body,
            update_existing_contacts=update_existing_contacts,
            empty_contacts_attributes=empty_contacts_attributes,
            disable_notification=disable_notification,
        )
        data = self._session.call("POST", "/contacts/import", content=content)
        return answer_int(data, "processId", "POST", "/contacts/import")

    def get_process(self, process_id: int) -> Process:
        """A background process. Brevo allows only ~100 of these calls per hour."""
        path = f"/processes/{positive_id(process_id, 'process_id')}"
        return Process.from_api(self._session.call("GET", path))

    def wait_for_process(
        self,
        process_id: int,
        *,
        timeout: float,
        first_delay: float = 0.5,
        max_delay: float = 30.0,
    ) -> Process:
        """Poll a process until it finishes (completed, failed or cancelled).

        Polls sparingly: after ``first_delay``, then doubling up to ``max_delay``, because
        ``GET /processes`` counts against Brevo's hourly budget. Returns the finished
        process (check ``.completed``); raises ProcessTimeoutError after ``timeout`` s.
        """
        if timeout <= 0 or first_delay < 0 or max_delay <= 0:
            raise ValueError("timeout and max_delay must be positive, first_delay 0 or more")
        deadline = self._clock() + timeout
        self._sleep(min(first_delay, timeout))
        backoff = wait_exponential(multiplier=max(first_delay, 0.05) * 2, max=max_delay)
        last: list[Process] = []

        def poll() -> Process:
            last[:] = [self.get_process(process_id)]
            return last[0]

        def until_deadline(state: RetryCallState) -> float:
            return max(0.0, min(float(backoff(state)), deadline - self._clock()))

        def past_deadline(state: RetryCallState) -> bool:
            return self._clock() >= deadline

        def timed_out(state: RetryCallState) -> Process:
            status = last[0].status if last else None
            raise ProcessTimeoutError(
                f"process {process_id} did not finish within {timeout:.0f} s"
                f" (last status: {status or 'unknown'})",
                process_id=process_id,
                last_status=status,
                method="GET",
                path=f"/processes/{process_id}",
            )

        retrying = Retrying(
            retry=retry_if_result(lambda p: not p.finished),
            wait=until_deadline,
            stop=past_deadline,
            sleep=self._sleep,
            retry_error_callback=timed_out,
        )
        process: Process = retrying(poll)
        log.debug("process %d finished with status %s", process_id, process.status)
        return process

    def download_report(self, url: str) -> str:
        """The CSV text behind one of an import report's links."""
        return self._session.download(url)

    # -- single contacts ------------------------------------------------------------

    def get_contact(self, identifier: str | int) -> Contact:
        """A contact by email, id or SMS; NotFoundError when there is none."""
        if isinstance(identifier, int) and not isinstance(identifier, bool):
            key = str(positive_id(identifier, "identifier"))
        elif isinstance(identifier, str) and identifier.strip():
            key = quote(identifier, safe="")
        else:
            raise ValueError(f"a contact identifier must be an email, id or phone: {identifier!r}")
        return Contact.from_api(self._session.call("GET", f"/contacts/{key}"))

    def create_contact(
        self,
        email: str,
        *,
        attributes: Mapping[str, Any] | None = None,
        list_ids: Sequence[int] | None = None,
        update_enabled: bool = False,
    ) -> int | None:
        """Create a contact (or update it when ``update_enabled``); its id when created."""
        if not email.strip():
            raise ValueError("create_contact needs an email")
        body: dict[str, Any] = {"email": email, "updateEnabled": update_enabled}
        if attributes:
            body["attributes"] = dict(attributes)
        if list_ids:
            body["listIds"] = [positive_id(i, "list id") for i in list_ids]
        # Without update_enabled a repeat would fail as a duplicate, so no blind retry.
        data = self._session.call("POST", "/contacts", json=body, idempotent=update_enabled)
        return int(data["id"]) if isinstance(data, Mapping) and "id" in data else None

    def update_contact(
        self,
        email: str,
        *,
        attributes: Mapping[str, Any] | None = None,
        list_ids: Sequence[int] | None = None,
        unlink_list_ids: Sequence[int] | None = None,
    ) -> None:
        """Update a contact's attributes and list membership (never its blacklist flags)."""
        if not email.strip():
            raise ValueError("update_contact needs an email")
        body: dict[str, Any] = {}
        if attributes is not None:
            body["attributes"] = dict(attributes)
        if list_ids:
            body["listIds"] = [positive_id(i, "list id") for i in list_ids]
        if unlink_list_ids:
            body["unlinkListIds"] = [positive_id(i, "list id") for i in unlink_list_ids]
        self._session.call("PUT", f"/contacts/{quote(email, safe='')}", json=body)
