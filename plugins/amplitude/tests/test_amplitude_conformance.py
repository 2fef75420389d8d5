"""The Amplitude destination runs the conformance kit, with Amplitude's own per-event answers
added to the kit's typical ones."""

from __future__ import annotations

import deliverator_amplitude.plugin
from deliverator.testing import DestinationConformance, ScriptedResponse


class TestAmplitudeConformance(DestinationConformance):
    plugin = deliverator_amplitude.plugin
    settings = {"api_key": "kit-amplitude-api-key-0123456789"}
    extra_answers = (
        ScriptedResponse(status=200, body={"code": 200, "events_ingested": 2, "server_upload_time": 1}),
        ScriptedResponse(
            status=400,
            body={"code": 400, "events_with_invalid_fields": {"time": [0]}, "events_with_missing_fields": {"x": [1]}},
        ),
        ScriptedResponse(status=400, body={"code": 400, "events_with_invalid_id_lengths": {"user_id": 0}}),
        ScriptedResponse(status=400, body={"code": 400, "error": "Invalid API key"}),
        ScriptedResponse(
            status=429,
            body={"code": 429, "throttled_users": {"kit-user-1": 40}, "throttled_events": [0], "eps_threshold": 30},
        ),
        ScriptedResponse(status=429, body={"code": 429, "exceeded_daily_quota_devices": {"kit-anon-1": 500001}}),
        ScriptedResponse(status=413, body={"code": 413, "error": "Payload too large"}),
    )
