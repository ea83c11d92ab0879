"""Who may change the documents: one rule for the API's write endpoints and the web page.

With ``QA_ADMIN_TOKEN`` set, the token typed into the Documents tab must match it; without one,
writes are allowed only while the server listens on a loopback address (nobody else can reach it).
"""

from __future__ import annotations

import hmac
import ipaddress

from qa.config import Settings

NO_TOKEN_REMOTE = (
    "Changing documents is disabled: the server is reachable from other machines and no admin "
    "token is set. Set QA_ADMIN_TOKEN and restart, or serve on 127.0.0.1."
)
WRONG_TOKEN = "Wrong or missing admin token."


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``; a wildcard address such as 0.0.0.0 is not."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def token_required(settings: Settings) -> bool:
    return bool(settings.admin_token)


def writes_possible(settings: Settings) -> bool:
    """Whether any write can succeed at all (decides if the write controls are shown enabled)."""
    return token_required(settings) or is_loopback(settings.host)


def token_matches(given: bytes, settings: Settings) -> bool:
    """The admin token check, in constant time: compare_digest takes the same time however much
    of the token matches, so timing reveals nothing."""
    return bool(settings.admin_token) and hmac.compare_digest(
        given, (settings.admin_token or "").encode("utf-8")
    )


def write_refusal(settings: Settings, token: str | None) -> str | None:
    """Why a write is refused, or None when it is allowed."""
    if settings.admin_token:
        if token_matches((token or "").strip().encode("utf-8"), settings):
            return None
        return WRONG_TOKEN
    if is_loopback(settings.host):
        return None
    return NO_TOKEN_REMOTE
