"""The project's one error hierarchy, and the one place where foreign errors are classified.

Every failure an agent can raise ends up as an `AgentfleetError`: either `RetryableError` (the
fleet parks the execution and tries again later) or `NonRetryableError` (the execution fails at
once). `classify` turns exceptions from the HTTP and LLM client stacks into these types, so no
`except` block elsewhere has to inspect status codes or messages.
"""

from __future__ import annotations

import asyncio


class AgentfleetError(Exception):
    """Root of every error agentfleet raises on purpose."""

    retryable: bool = False
    #: Seconds the provider asked us to wait (Retry-After), if it said so.
    retry_after: float | None = None

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message or self.__class__.__name__)
        if retry_after is not None:
            self.retry_after = retry_after

    @property
    def type_name(self) -> str:
        return type(self).__name__


# --- retryable -------------------------------------------------------------------------------


class RetryableError(AgentfleetError):
    """A transient failure: try the execution again after a backoff."""

    retryable = True


class RateLimited(RetryableError):
    """The provider answered 429 (or Reddit's equivalent)."""


class ProviderUnavailable(RetryableError):
    """The provider answered 5xx."""


class ProviderTimeout(RetryableError):
    """No answer within the client timeout."""


class ConnectionFailed(RetryableError):
    """The connection could not be made or was dropped."""


class AttemptTimeout(RetryableError):
    """The attempt as a whole ran past its per-attempt timeout."""


class LeaseExpired(RetryableError):
    """The worker holding the execution stopped renewing its lease (crash or stall)."""


class ProviderCoolingDown(RetryableError):
    """The fleet holds the provider in cooldown; the execution waits without calling it."""


# --- non-retryable ---------------------------------------------------------------------------


class NonRetryableError(AgentfleetError):
    """A failure that another attempt cannot fix."""


class BadRequest(NonRetryableError):
    """The provider rejected the request as malformed (400/422)."""


class AuthenticationFailed(NonRetryableError):
    """The provider rejected our credentials (401/403)."""


class UnknownModel(NonRetryableError):
    """The configured model does not exist at the provider (404)."""


class ContextOverflow(NonRetryableError):
    """The conversation no longer fits the model's context window."""


class InvalidAgentInput(NonRetryableError):
    """The agent's input does not validate against its input model."""


class InvalidAgentOutput(NonRetryableError):
    """The agent produced output that does not validate against its output model."""


class AgentCrashed(NonRetryableError):
    """The agent raised an exception that is not one of ours: a bug, not a blip."""


class SourceNotFound(NonRetryableError):
    """A data source (Reddit) has no such post or subreddit: asking again will not create it."""


# --- control flow and infrastructure ---------------------------------------------------------


class LeaseLost(AgentfleetError):
    """Our fencing token no longer matches: another worker owns the execution now."""


class StoreUnavailable(AgentfleetError):
    """The store could not be reached or did not acknowledge a write."""


class ConfigurationError(AgentfleetError):
    """Settings are missing, misspelled or out of range."""


def _status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return status if isinstance(status, int) else None


def _retry_after_of(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    # OpenAI-style servers also send milliseconds, the more precise of the two.
    millis = headers.get("retry-after-ms")
    raw = headers.get("retry-after") or headers.get("Retry-After")
    try:
        if millis is not None:
            return max(0.0, float(millis) / 1000)
        return max(0.0, float(raw)) if raw is not None else None
    except (TypeError, ValueError):
        return None


_CONTEXT_MARKERS = ("context length", "context_length", "maximum context", "too many tokens")
_TIMEOUT_NAMES = {"APITimeoutError", "ReadTimeout", "WriteTimeout", "PoolTimeout", "ConnectTimeout"}
_CONNECTION_NAMES = {
    "APIConnectionError",
    "ConnectError",
    "RemoteProtocolError",
    "ReadError",
    "ClientConnectionError",
    "ServerDisconnectedError",
}


def _classify_status(status: int, message: str, retry_after: float | None) -> AgentfleetError:
    if status == 429:
        return RateLimited(message, retry_after=retry_after)
    if status in (401, 403):
        return AuthenticationFailed(message)
    if status == 404:
        return UnknownModel(message)
    if status in (408, 409) or status >= 500:
        return ProviderUnavailable(message, retry_after=retry_after)
    if status == 400 and any(m in message.lower() for m in _CONTEXT_MARKERS):
        return ContextOverflow(message)
    return BadRequest(message)


_REDDIT_MODULES = ("asyncprawcore", "asyncpraw", "prawcore", "praw")


def _classify_reddit(exc: BaseException, names: set[str], message: str) -> AgentfleetError | None:
    """Reddit's client wraps transport errors and reports a missing subreddit as a redirect."""
    if not type(exc).__module__.startswith(_REDDIT_MODULES):
        return None
    original = getattr(exc, "original_exception", None)
    if isinstance(original, BaseException):  # RequestException: timeout or dropped connection
        return classify(original)
    if names & {"NotFound", "Redirect"}:
        return SourceNotFound(message)
    if "OAuthException" in names:
        return AuthenticationFailed(message)
    return None


def classify(exc: BaseException) -> AgentfleetError:
    """Map any exception raised during an attempt to exactly one of our error types.

    Looks at types by name so that this module needs none of the client libraries installed.
    """
    if isinstance(exc, AgentfleetError):
        return exc
    message = str(exc) or type(exc).__name__
    names = {cls.__name__ for cls in type(exc).__mro__}
    reddit = _classify_reddit(exc, names, message)
    if reddit is not None:
        return reddit
    if "ContextOverflowError" in names:  # LangChain's typed overflow, whatever the status
        return ContextOverflow(message)
    status = _status_of(exc)
    if status is not None:
        return _classify_status(status, message, _retry_after_of(exc))
    if names & _TIMEOUT_NAMES or isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return ProviderTimeout(message)
    if names & _CONNECTION_NAMES or isinstance(exc, ConnectionError):
        return ConnectionFailed(message)
    if "ContextOverflowError" in names or any(m in message.lower() for m in _CONTEXT_MARKERS):
        return ContextOverflow(message)
    if "ValidationError" in names:
        return InvalidAgentOutput(message)
    return AgentCrashed(f"{type(exc).__name__}: {message}")


class NotFound(AgentfleetError):
    """No such execution for this tenant (another tenant's executions do not exist for you)."""


class StateConflict(AgentfleetError):
    """The execution is in a state that does not allow the operation."""
