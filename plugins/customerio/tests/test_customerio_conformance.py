"""The Customer.io destination runs the conformance kit, as every destination should."""

from __future__ import annotations

import deliverator_customerio.plugin
from deliverator.testing import DestinationConformance, ScriptedResponse


class TestCustomerIOConformance(DestinationConformance):
    plugin = deliverator_customerio.plugin
    settings = {"site_id": "kit-site", "api_key": "kit-api-key-value"}
    extra_answers = (
        ScriptedResponse(status=207, body={"errors": [{"batch_index": 1, "reason": "invalid", "field": "x"}]}),
        ScriptedResponse(status=207, body='{"errors": [{"batch_index": 0, "reason": "required"}]}'),
        ScriptedResponse(status=207, body={"errors": [{"batch_index": 99}]}),
    )
