"""A Mixpanel ingestion emulator: a real HTTP server on loopback for tests and the demo.

    from deliverator_mixpanel.emulator import Emulator, Faults

    with Emulator(faults=Faults(rate_limit_every=5)) as emu:
        ...  # set the destination's endpoint to emu.url and deliver
        assert emu.imported_count() == 42

Modules, one job each: ``server`` (HTTP plumbing and the :class:`Emulator` handle), ``api``
(the endpoints' behaviour), ``project`` (credentials), ``validation`` (per-event rules),
``faults`` (injected misbehaviour), ``store`` (what was kept), ``answers`` (response shapes),
``limits``, ``cli`` (the command line).
"""

from __future__ import annotations

from deliverator_mixpanel.emulator.faults import Faults
from deliverator_mixpanel.emulator.project import Project
from deliverator_mixpanel.emulator.server import Emulator
from deliverator_mixpanel.emulator.store import EmulatorStats
from deliverator_mixpanel.emulator.validation import RecordError, validate_event

__all__ = ["Emulator", "EmulatorStats", "Faults", "Project", "RecordError", "validate_event"]
