"""The HTTP/1.1 protocol ``serve`` runs: uvicorn's ``httptools`` one, with a bound on heads.

uvicorn's ``h11`` protocol bounds how much of an unfinished request head it buffers, but
costs about twice the CPU per request of its ``httptools`` protocol, which reads heads of any
size. This one is the ``httptools`` protocol with the same bound: while a request's head is
still arriving, the bytes received for it are counted, and past ``MAX_INCOMPLETE_HEAD_BYTES``
the connection gets uvicorn's plain ``400`` and is closed, before any of our code runs. Bytes
of a body are not counted; a head that arrives whole in one read of the socket is not
refused here, and then meets the application's own 32 KiB header limit (431).
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_INCOMPLETE_HEAD_BYTES = 64 * 1024


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` refusing a request head still unfinished after 64 KiB."""

    _in_head = True
    _head_bytes = 0

    def data_received(self, data: bytes) -> None:
        in_head = self._in_head
        super().data_received(data)
        if not in_head or not self._in_head or self.transport.is_closing():
            return  # a body, a head this data finished, or a connection already refused
        self._head_bytes += len(data)
        if self._head_bytes > MAX_INCOMPLETE_HEAD_BYTES:
            msg = "Invalid HTTP request received."
            self.logger.warning("Request head over %d bytes.", MAX_INCOMPLETE_HEAD_BYTES)
            self.send_400_response(msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True  # the next request on this connection starts with its head
        self._head_bytes = 0
