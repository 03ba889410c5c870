"""The app served for real on 127.0.0.1, in a background thread, for tests that drive a browser."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import Flask, got_request_exception
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: a failing test shows its own output, not every request."""

    def log_request(self, code="-", size="-") -> None:
        pass


@dataclass
class LiveServer:
    app: Flask
    server: BaseWSGIServer | None = None
    thread: threading.Thread | None = None
    #: Exceptions raised by views while serving, so a test can say "the server never failed".
    exceptions: list[BaseException] = field(default_factory=list)
    #: (method, path) of every request that reached the server, in order.
    requests: list[tuple[str, str]] = field(default_factory=list)
    #: Seconds every POST waits before the app sees it: a slow network, for double-click tests.
    post_delay: float = 0.0
    _receiver: object = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}"

    def reset(self) -> None:
        self.exceptions.clear()
        self.requests.clear()
        self.post_delay = 0.0

    def posts(self) -> list[str]:
        return [path for method, path in self.requests if method == "POST"]

    def __call__(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        self.requests.append((method, environ.get("PATH_INFO", "")))
        if method == "POST" and self.post_delay:
            time.sleep(self.post_delay)
        return self.app(environ, start_response)

    def stop(self) -> None:
        """Stop serving; the socket is closed and the signal receiver dropped whatever happens."""
        assert self.server is not None and self.thread is not None
        try:
            if self.thread.is_alive():
                self.server.shutdown()  # returns once serve_forever has returned
            self.thread.join(timeout=10)
        finally:
            self.server.server_close()
            got_request_exception.disconnect(self._receiver, self.app)
        assert not self.thread.is_alive(), "the live server did not stop"


def start(app: Flask) -> LiveServer:
    """Serve `app` on a free port of 127.0.0.1 (port 0: the system picks one) until `stop()`.

    Ready on return: the socket listens from `make_server` on, so a request made before the
    thread first polls waits in the backlog; nothing to wait for. If the thread cannot start, the
    socket is closed before the error propagates.
    """
    live = LiveServer(app)
    live.server = make_server("127.0.0.1", 0, live, threaded=True, request_handler=_QuietHandler)
    live.thread = threading.Thread(
        target=functools.partial(live.server.serve_forever, poll_interval=0.05),
        name="live-server",
        daemon=True,
    )

    def record(_sender, exception, **_extra):
        live.exceptions.append(exception)

    live._receiver = record
    got_request_exception.connect(record, app, weak=False)
    try:
        live.thread.start()
    except BaseException:
        live.server.server_close()
        got_request_exception.disconnect(record, app)
        raise
    return live


@contextmanager
def serving(app: Flask) -> Iterator[LiveServer]:
    """`app` served while the block runs; then stopped, and its database connections closed."""
    from survey_app.extensions import db

    engine = db.engine_of(app)
    server = start(app)
    try:
        yield server
    finally:
        server.stop()
        engine.dispose()
