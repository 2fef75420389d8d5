"""The Mixpanel destination runs the conformance kit, as every destination should: once for
/import events (project secret), once for /engage profile updates (service account, profiles)."""

from __future__ import annotations

import deliverator_mixpanel.plugin
from deliverator.testing import DestinationConformance, ScriptedResponse

IMPORT_ANSWERS = (
    ScriptedResponse(status=200, body={"code": 200, "num_records_imported": 4, "status": "OK"}),
    ScriptedResponse(
        status=400,
        body={
            "code": 400,
            "error": "some data points in the request failed validation",
            "num_records_imported": 3,
            "failed_records": [{"index": 1, "insert_id": "x", "field": "properties.time", "message": "too old"}],
        },
    ),
    ScriptedResponse(status=400, body={"failed_records": [{"index": 0, "$insert_id": "nope"}]}),
    ScriptedResponse(status=413, body={"code": 413, "error": "request exceeds max limit of 2097152 bytes"}),
    ScriptedResponse(status=429, body={"code": 429, "error": "Project exceeded rate limits."}),
)


class TestMixpanelImportConformance(DestinationConformance):
    plugin = deliverator_mixpanel.plugin
    settings = {"api_secret": "kit-api-secret-value"}
    extra_answers = IMPORT_ANSWERS


class TestMixpanelProfilesConformance(DestinationConformance):
    plugin = deliverator_mixpanel.plugin
    settings = {
        "project_id": "2195",
        "service_account_username": "kit.sa",
        "service_account_secret": "kit-sa-secret-value",
        "profiles": True,
        "project_token": "kit-project-token",
    }
    secret_settings = ("service_account_secret",)
    # One kind of request per batch: the kit sends its sample payloads as one batch, and the core
    # never mixes /import events with /engage updates (DestinationSpec.batch_key).
    sample_events = tuple(
        {"type": "identify", "userId": f"kit-user-{n}", "messageId": f"kit-m-{n}", "traits": {"plan": "pro", "n": n}}
        for n in range(3)
    )
    extra_answers = (
        ScriptedResponse(status=200, body={"status": 1, "error": None}),
        ScriptedResponse(status=200, body={"status": 0, "error": "invalid token"}),
        ScriptedResponse(status=200, body=b"1"),
    )
