"""Delivering the webhook outbox: signed posts, retries, disabled endpoints.

A refresh writes its entries and exits to the outbox in its own transaction
(segments/outbox.py, store/webhooks.py); this module posts what is due. Each message is
signed with the Standard Webhooks scheme (``webhook-id``, ``webhook-timestamp``,
``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``) and keeps its id on
every retry, so a receiver can drop a duplicate. Delivery is at least once: the outcome of
a post is recorded after it, in groups (one transaction per message would be the slow
part), and a post whose outcome was never recorded is simply posted again.

Outcomes: 2xx is delivered; 410 Gone disables the endpoint (its messages wait until a
successful ``test_webhook`` enables it again); anything else, a timeout or a connection
error is retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h ... (each +-10 % jitter),
not before a ``Retry-After``, and failed once 24 h have passed since the first attempt.
"""

from __future__ import annotations

import binascii
import json
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from segmint.errors import ConfigError, NotFoundError, SegmintError
from segmint.segments.refresh import RefreshResult
from segmint.store import webhooks as outbox
from segmint.store.txn import kill_point, transaction

if TYPE_CHECKING:
    import duckdb
    import httpx
    from standardwebhooks import Webhook

    from segmint.config import WebhookConfig
    from segmint.console import Progress

# The wait after the n-th failed attempt; the last one repeats.
SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
JITTER = 0.1
# A message still failing this long after its first attempt is failed.
GIVE_UP = timedelta(hours=24)
# Outcomes are recorded in one transaction per this many messages or seconds.
FLUSH_MESSAGES = 200
FLUSH_SECONDS = 0.5
# Messages read from the outbox at a time, and posts in flight at once.
PAGE = 1000
WORKERS = 8
# The longest error text kept for a message.
MAX_ERROR = 300

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DeliveryResult:
    """What one delivery run did: messages delivered (and the changes they carried),
    messages to retry later, messages failed for good, endpoints a 410 disabled."""

    delivered: int = 0
    changes: int = 0
    retrying: int = 0
    failed: int = 0
    disabled: tuple[str, ...] = ()
    seconds: float = 0.0
    # Set when the delivery could not run at all (e.g. a secret_env that is unset).
    error: str | None = None

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed


@dataclass(frozen=True)
class DeliveredRefresh(RefreshResult):
    """A refresh and the webhook delivery after its commit (None: none was run)."""

    delivery: DeliveryResult | None = None


def with_delivery(result: RefreshResult, delivery: DeliveryResult | None) -> DeliveredRefresh:
    values = {f.name: getattr(result, f.name) for f in fields(result)}
    return DeliveredRefresh(**values, delivery=delivery)


def deliver_after(
    con: duckdb.DuckDBPyConnection, hooks: Sequence[WebhookConfig], progress: Progress | None
) -> DeliveryResult:
    """The delivery after a refresh committed: what cannot run (an unset secret_env) is
    reported in the result, not raised, since the refresh itself is done and kept."""
    started = time.perf_counter()
    try:
        return deliver(con, hooks, progress=progress)
    except SegmintError as exc:
        return DeliveryResult(seconds=time.perf_counter() - started, error=str(exc))


@dataclass(frozen=True)
class EndpointStatus:
    """An endpoint's outbox: configured or only left in the outbox, disabled or not."""

    endpoint: str
    url: str | None
    disabled_at: datetime | None
    reason: str | None
    pending: int
    pending_changes: int
    due: int
    delivered: int
    failed: int
    last_delivered_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class EndpointTest:
    """The answer to a signed test message."""

    endpoint: str
    status_code: int | None
    error: str | None
    seconds: float
    enabled_again: bool = False

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class _Answer:
    """What a post got: a status code and Retry-After, or an error."""

    status_code: int | None
    retry_after: str | None
    error: str | None


def secret_of(hook: WebhookConfig) -> Webhook:
    """The signer of ``hook``: its secret, or the environment variable named by
    ``secret_env`` read now."""
    from standardwebhooks import Webhook

    secret = hook.secret
    if hook.secret_env:
        secret = os.environ.get(hook.secret_env, "")
        if not secret:
            raise ConfigError(
                f"[[webhooks]] {hook.endpoint}: secret_env names {hook.secret_env}, which is "
                "not set; set it to the endpoint's whsec_... secret"
            )
    try:
        if not secret.startswith("whsec_"):
            raise ValueError
        return Webhook(secret)
    except (ValueError, binascii.Error):
        raise ConfigError(
            f"[[webhooks]] {hook.endpoint}: the secret must be whsec_ followed by base64"
        ) from None


def post(
    client: httpx.Client, hook: WebhookConfig, signer: Webhook, msg_id: str, body: str
) -> _Answer:
    """Sign and post one message (in a worker thread)."""
    import httpx

    sent_at = datetime.now(UTC)  # the receiver checks this against its own clock
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signer.sign(msg_id, sent_at, body),
    }
    try:
        response = client.post(hook.url, content=body.encode("utf-8"), headers=headers)
    except httpx.TimeoutException:
        return _Answer(None, None, f"no answer within {hook.timeout:g} s")
    except httpx.HTTPError as exc:
        return _Answer(None, None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR])
    kill_point("webhooks:posted")
    return _Answer(response.status_code, response.headers.get("retry-after"), None)


def next_attempt(
    message: outbox.DueMessage, answer: _Answer, now: datetime, rng: random.Random
) -> outbox.Attempt:
    """The message after ``answer``: delivered, to retry at a time, or failed."""
    attempts = message.attempts + 1
    first = message.first_attempt_at or now
    code = answer.status_code
    if code is not None and 200 <= code < 300:
        return outbox.Attempt(
            message.msg_id, outbox.DELIVERED, attempts, first, now, None, code, None, now
        )
    error = answer.error or f"HTTP {code}"
    if code == 410:
        # Not a failure of the message: it waits for the endpoint to be enabled again.
        return outbox.Attempt(
            message.msg_id, outbox.PENDING, attempts, first, now, None, code, error, None
        )
    if now >= first + GIVE_UP:
        return outbox.Attempt(
            message.msg_id, outbox.FAILED, attempts, first, now, None, code, error, None
        )
    wait = SCHEDULE[min(attempts, len(SCHEDULE)) - 1]
    when = min(now + wait * (1 + rng.uniform(-JITTER, JITTER)), first + GIVE_UP)
    later = retry_after(answer.retry_after, now)
    if later is not None:
        when = max(when, later)
    return outbox.Attempt(
        message.msg_id, outbox.PENDING, attempts, first, when, later, code, error, None
    )


def retry_after(value: str | None, now: datetime) -> datetime | None:
    """A ``Retry-After`` header (seconds, or an HTTP date) as an instant; None if absent or
    unreadable.

    >>> retry_after("120", datetime(2026, 1, 1, tzinfo=UTC)).isoformat()
    '2026-01-01T00:02:00+00:00'
    >>> retry_after("Thu, 01 Jan 2026 00:10:00 GMT", datetime(2026, 1, 1, tzinfo=UTC)).minute
    10
    >>> retry_after("9" * 40, datetime(2026, 1, 1, tzinfo=UTC)).isoformat()
    '2026-01-03T00:00:00+00:00'
    """
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        # A wait beyond the give-up time means the same as the give-up time (and a huge
        # number must not overflow).
        return now + min(timedelta(seconds=int(text[:12])), 2 * GIVE_UP)
    try:
        found = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


class _Recorder:
    """Outcomes waiting to be recorded, written in one transaction per group."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.attempts: list[outbox.Attempt] = []
        self.disables: list[tuple[str, datetime, str]] = []
        self.since = time.monotonic()

    def add(self, attempt: outbox.Attempt) -> None:
        self.attempts.append(attempt)
        full = len(self.attempts) >= FLUSH_MESSAGES
        if full or time.monotonic() - self.since >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.attempts or self.disables:
            with transaction(self.con, "webhooks", "recording webhook deliveries"):
                outbox.record(self.con, self.attempts)
                for endpoint, when, reason in self.disables:
                    outbox.disable(self.con, endpoint, when, reason)
        self.attempts, self.disables = [], []
        self.since = time.monotonic()


def deliver(
    con: duckdb.DuckDBPyConnection,
    hooks: Sequence[WebhookConfig],
    ignore_backoff: bool = False,
    clock: Clock = utc_now,
    progress: Progress | None = None,
) -> DeliveryResult:
    """Post every due message of the configured endpoints (each at most once in this
    run); ``ignore_backoff`` posts every pending one whose Retry-After has passed."""
    from segmint.console import SilentProgress

    started = time.perf_counter()
    progress = progress or SilentProgress()
    configured = {hook.endpoint: hook for hook in hooks}
    due = outbox.due_ids(con, list(configured), clock(), ignore_backoff)
    if not due:
        return DeliveryResult(seconds=time.perf_counter() - started)
    ids = [msg_id for msg_id, _ in due]
    # Only the endpoints with something due need their secret now.
    waiting = {endpoint for _, endpoint in due}
    run = _Run(con, {k: v for k, v in configured.items() if k in waiting}, clock)
    progress.phase(f"delivering {len(ids):,} webhook messages", total=len(ids))
    try:
        run.send(ids, progress)
    finally:
        run.close()
        progress.done()
    return run.result(time.perf_counter() - started)


class _Run:
    """One delivery run: an HTTP client per endpoint (kept alive), a pool of workers."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, hooks: dict[str, WebhookConfig], clock: Clock
    ) -> None:
        import httpx

        self.con = con
        self.hooks = hooks
        self.clock = clock
        self.signers = {name: secret_of(hook) for name, hook in hooks.items()}
        self.clients = {
            name: httpx.Client(timeout=hook.timeout, follow_redirects=False)
            for name, hook in hooks.items()
        }
        self.recorder = _Recorder(con)
        self.rng = random.Random()
        self.gone: dict[str, str] = {}
        self.counts = {outbox.DELIVERED: 0, outbox.PENDING: 0, outbox.FAILED: 0}
        self.changes = 0

    def send(self, ids: list[str], progress: Progress) -> None:
        done = 0
        with ThreadPoolExecutor(WORKERS, thread_name_prefix="webhooks") as pool:
            for page in _pages(ids, PAGE):
                batch = [m for m in outbox.messages(self.con, page) if m.endpoint not in self.gone]
                futures = [(m, pool.submit(self._post, m)) for m in batch]
                for message, future in futures:
                    self._note(message, future)
                    done += 1
                    progress.advance(done)
        self.recorder.flush()

    def _post(self, message: outbox.DueMessage) -> _Answer:
        hook = self.hooks[message.endpoint]
        client = self.clients[message.endpoint]
        answer = post(client, hook, self.signers[message.endpoint], message.msg_id, message.body)
        return answer

    def _note(self, message: outbox.DueMessage, future: Future[_Answer]) -> None:
        answer = future.result()
        attempt = next_attempt(message, answer, self.clock(), self.rng)
        if answer.status_code == 410 and message.endpoint not in self.gone:
            reason = "410 Gone: the endpoint asked for no more messages"
            self.gone[message.endpoint] = reason
            self.recorder.disables.append((message.endpoint, self.clock(), reason))
        self.counts[attempt.status] += 1
        if attempt.status == outbox.DELIVERED:
            self.changes += message.changes
        self.recorder.add(attempt)

    def close(self) -> None:
        try:
            self.recorder.flush()
        finally:
            for client in self.clients.values():
                client.close()

    def result(self, seconds: float) -> DeliveryResult:
        return DeliveryResult(
            self.counts[outbox.DELIVERED],
            self.changes,
            self.counts[outbox.PENDING],
            self.counts[outbox.FAILED],
            tuple(self.gone),
            seconds,
        )


def _pages(ids: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def status(
    con: duckdb.DuckDBPyConnection, hooks: Sequence[WebhookConfig], clock: Clock = utc_now
) -> list[EndpointStatus]:
    """Every configured endpoint, and every endpoint left in the outbox."""
    found = {c.endpoint: c for c in outbox.counts(con, clock())}
    off = outbox.disabled(con)
    urls = {hook.endpoint: hook.url for hook in hooks}
    names = list(dict.fromkeys([*urls, *found]))
    out = []
    for name in names:
        c = found.get(name) or outbox.EndpointCounts(name, 0, 0, 0, 0, 0, None, None)
        when, reason = off.get(name, (None, None))
        out.append(
            EndpointStatus(
                name, urls.get(name), when, reason, c.pending, c.pending_changes, c.due,
                c.delivered, c.failed, c.last_delivered_at, c.last_error,
            )
        )  # fmt: skip
    return out


def send_test(
    con: duckdb.DuckDBPyConnection, hooks: Sequence[WebhookConfig], name: str
) -> EndpointTest:
    """Post a signed ``segment.test`` message to endpoint ``name`` (nothing is written to
    the outbox); a 2xx answer enables a disabled endpoint again."""
    import uuid

    import httpx

    from segmint.hints import suggest

    hook = next((h for h in hooks if h.endpoint == name), None)
    if hook is None:
        known = [h.endpoint for h in hooks]
        listed = ", ".join(known) if known else "none in segmint.toml"
        raise NotFoundError(
            f"no webhook endpoint {name!r}{suggest(name, known)} (configured: {listed})"
        )
    msg_id = f"msg_test_{uuid.uuid4().hex}"
    body = json.dumps(
        {"type": "segment.test", "endpoint": name, "sent_at": _iso(utc_now())},
        separators=(",", ":"),
    )
    started = time.perf_counter()
    with httpx.Client(timeout=hook.timeout) as client:
        answer = post(client, hook, secret_of(hook), msg_id, body)
    result = EndpointTest(name, answer.status_code, answer.error, time.perf_counter() - started)
    if result.ok and name in outbox.disabled(con):
        with transaction(con, "webhooks", "enabling the webhook endpoint"):
            outbox.enable(con, name)
        return EndpointTest(name, answer.status_code, None, result.seconds, enabled_again=True)
    return result


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
