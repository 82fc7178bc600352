"""segport's own Brevo API v3 server on loopback (tests, demos, trials without an account).

    from segport.brevo.sandbox import SandboxConfig, SandboxServer

    with SandboxServer(SandboxConfig(port=0, rate_limits="off")) as server:
        ...  # server.base_url, server.api_key, server.state, server.requests_log

It never imports segport's engine: it stands in for the real Brevo.
"""

from segport.brevo.sandbox.config import SandboxConfig
from segport.brevo.sandbox.faults import FaultSpecError
from segport.brevo.sandbox.persistence import StateFileError
from segport.brevo.sandbox.server import SandboxServer

__all__ = ["FaultSpecError", "SandboxConfig", "SandboxServer", "StateFileError"]
