"""The example destination runs the conformance kit, as every destination should."""

from __future__ import annotations

import deliverator_example.plugin
from deliverator.testing import DestinationConformance


class TestExampleConformance(DestinationConformance):
    plugin = deliverator_example.plugin
    settings = {"token": "example-kit-token"}
