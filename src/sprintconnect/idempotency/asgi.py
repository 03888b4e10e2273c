"""ASGI plumbing for the idempotency middleware: body buffering, answers, recording."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from sprintconnect.errors import SprintConnectError
from sprintconnect.handlers import problem_response
from sprintconnect.idempotency.service import StoredResponse

REPLAYED_HEADER = b"idempotent-replayed"
# Headers that are part of the answer; the rest (request id, dates, lengths) are per response.
KEPT_HEADERS = frozenset({"content-type", "location", "etag"})


async def read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole request body, and the messages that carried it (to hand on unchanged)."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks), messages


def replaying(messages: list[Message], receive: Receive) -> Receive:
    """A receive that first hands out ``messages``, then defers to the real one."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def send_problem(
    scope: Scope, receive: Receive, send: Send, error: SprintConnectError
) -> None:
    await problem_response(Request(scope), error)(scope, receive, send)


async def send_stored(send: Send, stored: StoredResponse) -> None:
    """Answer with a stored response, byte for byte, marked as a replay."""
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in stored.headers]
    headers += [
        (b"content-length", str(len(stored.body)).encode()),
        (REPLAYED_HEADER, b"true"),
    ]
    await send({"type": "http.response.start", "status": stored.status, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body})


class Recorder:
    """Collects the answer the application sends, to store it once the last chunk is known."""

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []

    def see(self, message: Message) -> bool:
        """Record one send; True when it is the final body chunk."""
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self.headers = [
                (name.decode("latin-1").lower(), value.decode("latin-1"))
                for name, value in message.get("headers", [])
                if name.decode("latin-1").lower() in KEPT_HEADERS
            ]
            return False
        if message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))
            return not message.get("more_body", False)
        return False

    def response(self) -> StoredResponse:
        return StoredResponse(self.status, self.headers, b"".join(self.chunks))
