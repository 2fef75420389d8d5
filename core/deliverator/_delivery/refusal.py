"""The outcome record and dead letter of a record refused without being sent, from templates.

A stopped run may refuse millions of records, all with the same (status, errortype, message):
the part they share is encoded once per refusal, and each record costs two %-formats. What is
written is byte for byte what :meth:`~deliverator._delivery.recorder.OutcomeRecorder.failed`
writes for an item with no attempt (``tests/test_refused_blocks.py`` proves it for any record).
Only a *plain* record takes this path: a file's record whose line is a JSON object with a
``type``, not a re-delivered dead letter and not nested too deep to be read back.
"""

from __future__ import annotations

import attrs
import orjson

from deliverator._recorded import message


@attrs.frozen(slots=True)
class RefusalTemplates:
    """The %-templates of one refusal's outcome records and dead letters."""

    outcome: bytes
    """Takes (index, the ``messageId`` as JSON, ``null`` when absent)."""
    dead_letter: bytes
    """Takes (the record's line, index)."""

    @classmethod
    def of(cls, status: int, errortype: str, errormessage: str) -> RefusalTemplates:
        """The templates for records failed with (``status``, ``errortype``, ``errormessage``)."""
        shared = b'"status":%d,"errortype":%b,"errormessage":%b,"attempts":0' % (
            status,
            orjson.dumps(errortype),
            orjson.dumps(message(errormessage)),
        )
        shared = shared.replace(b"%", b"%%")  # text from outside must not be read as a format
        return cls(
            b'{"index":%d,"message_id":%b,"outcome":"failed",' + shared + b',"sent":null,"body":null}\n',
            b'{"event":%b,"index":%d,' + shared + b"}\n",
        )


@attrs.frozen(slots=True)
class RenderedRefusals:
    """Plain records' outcome records and dead letters, already written out (by the preparer,
    a chunk of a file at a time) for the sink's ``add_block``."""

    indices: list[int]
    results: bytes
    dead_letters: bytes
