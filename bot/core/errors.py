"""One error tree for newsbot: every failure a user or operator can see is a NewsbotError."""

from __future__ import annotations


class NewsbotError(Exception):
    """Base of every error newsbot raises on purpose; its message is one clear sentence."""


class ConfigError(NewsbotError):
    """Settings are missing or contradictory; the message says what to change."""


class FetchError(NewsbotError):
    """A feed or page could not be fetched; ``reason`` is a stable code for metrics and logs."""

    reason = "fetch failed"

    def __init__(self, message: str, *, url: str = "", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.retry_after = retry_after


class AddressNotAllowed(FetchError):
    """The URL's scheme or address is refused by the SSRF guard (RELIABILITY A1-A3)."""

    reason = "address not allowed"


class TooLarge(FetchError):
    """The decoded body passed the size cap (A4)."""

    reason = "too large"


class FetchTimeout(FetchError):
    """The whole request passed its total deadline (A5)."""

    reason = "timeout"


class TooManyRedirects(FetchError):
    """A redirect loop or an over-long chain (A6)."""

    reason = "too many redirects"


class HttpStatusError(FetchError):
    """The server answered with a non-success status."""

    reason = "http error"

    def __init__(
        self, message: str, *, status: int, url: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(message, url=url, retry_after=retry_after)
        self.status = status


class ConnectionFailed(FetchError):
    """DNS, TCP or TLS failed before an answer arrived."""

    reason = "connection failed"


class FeedParseError(NewsbotError):
    """The bytes are not a feed we can read, or were refused as hostile (B2)."""

    reason = "parse error"


class StorageUnavailable(NewsbotError):
    """The database cannot be reached or opened; the message names the database, not secrets."""


class NotFound(NewsbotError):
    """A feed, item or story id the user named does not exist."""


class InvalidInput(NewsbotError):
    """A command argument was wrong; the message tells the user what to type instead."""


class PermissionDenied(NewsbotError):
    """The user may not run a configuration command here."""


class DeliveryError(NewsbotError):
    """A chat platform did not take a message; transient unless a subclass says otherwise."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(DeliveryError):
    """The platform asked us to slow down; retry after ``retry_after`` seconds."""


class DestinationGone(DeliveryError):
    """The channel is deleted or we lost access (404/403): disable it once, with this reason."""
