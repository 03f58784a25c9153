import pickle
import signal
import time

import orjson
import pytest

from services.core.errors import (
    AkhbarError,
    ExtractionTimeoutError,
    MalformedMessageError,
    UndecodableBodyError,
)
from services.core.messages import CorpusRecord, RawDocument, Rejection
from services.parser import worker
from services.parser.document import ParserPolicy
from services.parser.worker import Outcome, parse_messages
from tests.parser.conftest import PERSIAN, article_page
from tests.parser.stub_workers import POLICY


def message(document_id: str, body: str) -> bytes:
    document = RawDocument(
        id=document_id, url=f"https://example.com/{document_id}", source="site", body=body
    )
    return document.model_dump_json().encode()


def test_records_and_rejections_come_back_as_json_to_publish(
    seed_page: tuple[str, str, str],
) -> None:
    html, title, _ = seed_page
    record, rejection = parse_messages(
        [message("ar", html), message("fa", article_page("عنوان", [PERSIAN]))], POLICY
    )
    assert isinstance(record, Outcome)
    assert not record.rejected
    assert (record.id, record.url, record.source) == ("ar", "https://example.com/ar", "site")
    assert CorpusRecord.model_validate_json(record.body).title == title
    assert record.seconds > 0
    assert isinstance(rejection, Outcome)
    assert (rejection.rejected, rejection.reason) == (True, "language")
    assert rejection.detail is not None
    assert rejection.detail.startswith("language fa")
    assert Rejection.model_validate_json(rejection.body).language == "fa"


def test_a_failing_message_gives_its_error_and_the_others_go_on(
    seed_page: tuple[str, str, str],
) -> None:
    html, _, _ = seed_page
    results = parse_messages(
        [b"{not json", orjson.dumps({"id": "x"}), message("empty", " "), message("ok", html)],
        POLICY,
    )
    broken, incomplete, empty, ok = results
    assert isinstance(broken, MalformedMessageError)
    assert isinstance(incomplete, MalformedMessageError)
    assert "body" in str(incomplete)
    assert isinstance(empty, UndecodableBodyError)
    assert isinstance(ok, Outcome)
    pickle.dumps(results)  # what the worker sends back must travel


class _Unpicklable(Exception):
    def __init__(self, first: str, second: str) -> None:
        super().__init__(f"{first} {second}")


def test_an_error_that_cannot_travel_is_sent_as_its_description(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def failing(_: bytes, __: object) -> Outcome:
        raise _Unpicklable("lost", "state")

    monkeypatch.setattr(worker, "parse_one", failing)
    (error,) = parse_messages([b"{}"], POLICY)
    assert type(error) is AkhbarError
    assert str(error) == "_Unpicklable: lost state"


def test_a_message_over_its_time_limit_fails_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    real = worker.parse_one

    def slow_on_request(data: bytes, policy: ParserPolicy) -> Outcome:
        if data == b"slow":
            time.sleep(30)
        return real(data, policy)

    monkeypatch.setattr(worker, "parse_one", slow_on_request)
    handler = signal.getsignal(signal.SIGALRM)
    started = time.monotonic()
    slow, after = parse_messages([b"slow", message("empty", " ")], POLICY, time_limit=0.2)
    assert time.monotonic() - started < 10
    assert isinstance(slow, ExtractionTimeoutError)
    assert str(slow) == "extraction took longer than 0.2s"
    assert isinstance(after, UndecodableBodyError)  # the next message was parsed as usual
    assert signal.getsignal(signal.SIGALRM) is handler
