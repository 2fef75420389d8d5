"""An Amplitude HTTP V2 API emulator: a real HTTP server on loopback for tests and the demo.

    from deliverator_amplitude.emulator import Emulator, Faults

    with Emulator(api_key="key", faults=Faults(user_events_per_second=30)) as emu:
        ...  # set the destination's endpoint to emu.url and deliver
        assert emu.kept_count() == 42
        assert max(emu.received_insert_ids().values()) >= 1

Modules, one job each: ``server`` (HTTP plumbing and the :class:`Emulator` handle), ``api``
(the endpoint's behaviour), ``validation`` (the documented request and event rules),
``throttle`` (the per-user limit), ``faults`` (other injected misbehaviour), ``store`` (what
was ingested), ``answers`` (response shapes), ``limits``, ``cli`` (the command line).
"""

from __future__ import annotations

from deliverator_amplitude.emulator.faults import Faults
from deliverator_amplitude.emulator.server import Emulator
from deliverator_amplitude.emulator.store import Arrival, EmulatorStats
from deliverator_amplitude.emulator.validation import EventCheck, check_event

__all__ = ["Arrival", "Emulator", "EmulatorStats", "EventCheck", "Faults", "check_event"]
