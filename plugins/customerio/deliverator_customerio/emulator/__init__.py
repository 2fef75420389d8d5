"""A Customer.io Track API emulator: a real HTTP server on loopback for tests, the demo and
benchmarks.

    from deliverator_customerio.emulator import Emulator, Faults

    with Emulator(site_id="site", api_key="key", faults=Faults(rate_limit_every=5)) as emu:
        ...  # set the destination's endpoint to emu.url and deliver
        assert emu.accepted_count() == 42
        assert max(emu.received_ids().values()) >= 1

Modules, one job each: ``server`` (HTTP plumbing and the :class:`Emulator` handle), ``api``
(the endpoints' behaviour), ``validation`` (per-item rules), ``faults`` (injected
misbehaviour), ``store`` (what was accepted), ``answers`` (response shapes), ``limits``,
``client`` (authenticated requests for tests), ``cli`` (the command line).
"""

from __future__ import annotations

from deliverator_customerio.emulator.client import EmulatorClient, basic_auth
from deliverator_customerio.emulator.faults import Faults
from deliverator_customerio.emulator.server import Emulator
from deliverator_customerio.emulator.store import EmulatorStats
from deliverator_customerio.emulator.validation import ItemError, validate_item

__all__ = ["Emulator", "EmulatorClient", "EmulatorStats", "Faults", "ItemError", "basic_auth", "validate_item"]
