"""`make demo`: start the Brevo sandbox, make a few real API calls to it, and stop it.

An interim tour until the export pipeline is assembled: it shows what the sandbox
answers to the calls an export makes (account, attributes, folder and list, an import,
polling its process, reading the list back).
"""

from __future__ import annotations

import time
from typing import Any


def main() -> None:
    import httpx

    from segport.brevo.sandbox import SandboxConfig, SandboxServer

    config = SandboxConfig(port=0, rate_limits="brevo")
    with SandboxServer(config) as server:
        print(f"Brevo sandbox started on {server.base_url} (API key: {server.api_key})")
        with httpx.Client(
            base_url=server.base_url, headers={"api-key": server.api_key}, timeout=10
        ) as api:

            def call(method: str, path: str, **kwargs: Any) -> Any:
                r = api.request(method, path, **kwargs)
                print(f"  {method} /v3{path} -> {r.status_code}")
                r.raise_for_status()
                return r.json() if r.content else None

            account = call("GET", "/account")
            print(f"    account: {account['companyName']} <{account['email']}>")
            attrs = call("GET", "/contacts/attributes")["attributes"]
            print(f"    attributes: {', '.join(a['name'] for a in attrs)}")
            folder = call("POST", "/contacts/folders", json={"name": "segport demo"})["id"]
            list_id = call(
                "POST", "/contacts/lists", json={"name": "VIP customers", "folderId": folder}
            )["id"]
            print(f"    folder {folder}, list {list_id}")
            body = (
                "EMAIL;FIRSTNAME;LASTNAME;SMS\n"
                "ada@example.com;Ada;Lovelace;+447700900001\n"
                "Grace@Example.com;Grace;Hopper;+14155550100\n"
                "not-an-email;Bad;Row;\n"
            )
            pid = call("POST", "/contacts/import", json={"listIds": [list_id], "fileBody": body})[
                "processId"
            ]
            print(f"    import accepted as process {pid}")
            while True:
                proc = call("GET", f"/processes/{pid}")
                print(f"    process {pid}: {proc['status']}")
                if proc["status"] == "completed":
                    break
                time.sleep(0.2)
            invalid = proc["info"]["import"]["invalid_emails"]
            if invalid:
                rows = httpx.get(invalid).text.strip().splitlines()[1:]
                print(f"    rejected rows ({invalid}): {rows}")
            members = call("GET", f"/contacts/lists/{list_id}/contacts", params={"limit": 50})
            print(f"    list {list_id} holds {members['count']} contacts:")
            for c in members["contacts"]:
                a = c["attributes"]
                name = f"{a.get('FIRSTNAME')} {a.get('LASTNAME')}"
                print(f"      {c['email']}: {name}, SMS {a.get('SMS')}")
        calls = server.requests_log.count()
    print(f"Sandbox stopped after {calls} API calls.")


if __name__ == "__main__":
    main()
