"""A whole delivery in-process, for tests: events in, outcome records out.

The same composition as ``deliverator deliver`` (configuration parsed and validated the same
way, the same plugin manager, the same loop), with the outcome files in memory and a virtual
clock, so that retries and backoff cost no real time. Plugin authors reach it as
:func:`deliverator.testing.deliver_events`.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from deliverator.clock import Clock, FakeClock
from deliverator.config import Config, parse_config
from deliverator.delivery import DeliveryRun, RunOptions
from deliverator.delivery.writer import OutcomeWriter
from deliverator.destination import Destination
from deliverator.errorhandling import RequestPacer, error_handler_plugin
from deliverator.session import http_client, open_session

Event = Mapping[str, Any] | str | bytes
"""One input record: a mapping (encoded as JSON), or a raw line (to test invalid input)."""


def deliver_events(
    events: Iterable[Event],
    destination: str | object,
    settings: Mapping[str, Any] | None = None,
    *,
    error_handler: Mapping[str, Any] | None = None,
    clock: Clock | None = None,
    dead_letters: list[dict[str, Any]] | None = None,
    **delivery: Any,
) -> list[dict[str, Any]]:
    """Deliver ``events`` and return their outcome records, in input order.

    ``destination`` is an installed destination's name (loaded as the CLI loads it, with any
    extensions) or a module or object of hook implementations. ``settings`` is the
    ``[destination.settings]`` table, ``error_handler`` the ``[error_handler]`` table and
    ``delivery`` the ``[delivery]`` keys (``batch_size=2``, ``concurrency=1``...); all are
    validated as in a config file. Waits run on ``clock`` (a fresh :class:`FakeClock` by
    default: retries cost no real time). Failed events' dead-letter records are appended to
    ``dead_letters`` when given.

    Example::

        outcomes = deliver_events(
            [{"type": "track", "userId": "u1", "event": "Signed Up", "messageId": "m-1"}],
            destination="example",
            settings={"endpoint": server.url, "token": "t0ken"},
            batch_size=10,
        )
        assert outcomes[0]["outcome"] == "delivered"
    """
    name = destination if isinstance(destination, str) else "in-process"
    config = parse_config(
        {
            "destination": {"name": name, "settings": dict(settings or {})},
            "delivery": dict(delivery),
            "error_handler": dict(error_handler or {}),
        },
        os.environ,
    )
    target = _load(destination, config)
    results, dead = io.BytesIO(), io.BytesIO()
    run_clock = clock or FakeClock()
    run = DeliveryRun(
        target,
        http_client(config),
        _options(config, target),
        OutcomeWriter(results, dead),
        config.error_handler,
        clock=run_clock,
        pacer=RequestPacer(run_clock, config.delivery.max_requests_per_second),
    )
    run.run(io.BytesIO(b"\n".join(_line(event) for event in events)))
    if dead_letters is not None:
        dead_letters.extend(orjson.loads(line) for line in dead.getvalue().splitlines())
    records = [orjson.loads(line) for line in results.getvalue().splitlines()]
    return sorted(records, key=lambda record: (record["index"] is None, record["index"] or 0))


def load_destination(
    destination: str | object, settings: Mapping[str, Any] | None = None, *, plugins: Sequence[object] = ()
) -> Destination:
    """The facade the loop talks to, for a destination name or a hook module, with
    ``settings`` validated by its settings class, and extra ``plugins`` (wrappers, error
    handlers) registered after it. For tests of single hooks (``build_payload``, ``judge``)."""
    name = destination if isinstance(destination, str) else "in-process"
    config = parse_config({"destination": {"name": name, "settings": dict(settings or {})}}, os.environ)
    target = _load(destination, config)
    for number, plugin in enumerate(plugins):
        target.add_plugin(plugin, f"test-plugin-{number}")
    return target


def _load(destination: str | object, config: Config) -> Destination:
    if isinstance(destination, str):
        return open_session(config).destination
    target = Destination.from_plugins([(config.destination.name, destination)], config.destination.settings)
    handler = error_handler_plugin(config.error_handler)
    if handler is not None:
        target.add_plugin(handler, "deliverator.error_handler")
    return target


def _options(config: Config, destination: Destination) -> RunOptions:
    spec = destination.spec
    delivery = config.delivery
    return RunOptions(
        batch_size=min(delivery.batch_size or spec.batch_items, spec.max_batch_items),
        concurrency=delivery.concurrency,
        linger_s=delivery.linger_s,
        max_line_bytes=delivery.max_line_bytes,
        cancel_grace_s=delivery.cancel_grace_s,
    )


def _line(event: Event) -> bytes:
    if isinstance(event, bytes):
        return event
    if isinstance(event, str):
        return event.encode()
    return orjson.dumps(event)
