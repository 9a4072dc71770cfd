"""The runner's end of a python node's network, for pools with ``network=True``.

Sent as text in the runner's first message and run there (like ``_runner_main.py``, it
must not import runloom, only the standard library). :func:`start` listens on the jail's
own loopback and points the usual proxy variables at it, so that urllib, http.client,
requests and httpx send every request to it; one thread relays each connection, byte for
byte, over the Unix socket bound into the jail to the worker's egress proxy
(``runloom.sandbox.proxy``), which decides where it may go. Nothing here is a guard: code
that ignores the variables only reaches the jail's loopback, where nothing else listens.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import threading

__all__ = ["PROXY_VARIABLES", "start"]

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")
NO_PROXY_VARIABLES = ("NO_PROXY", "no_proxy")
BUFFER = 64 * 1024
CONNECT_TIMEOUT_S = 5.0


class Pair:
    """One accepted connection and its relay to the worker: bytes both ways, and each
    direction's end (a half-close) passed on once what was read has been written."""

    def __init__(self, client: socket.socket, worker: socket.socket) -> None:
        self.sockets = (client, worker)
        self.waiting = {client: b"", worker: b""}  # read from the peer, to write here
        self.ended = {client: False, worker: False}  # nothing more to read from it
        self.shut = {client: False, worker: False}  # its writing side is shut

    def peer(self, sock: socket.socket) -> socket.socket:
        client, worker = self.sockets
        return worker if sock is client else client

    def events(self, sock: socket.socket) -> int:
        wanted = selectors.EVENT_WRITE if self.waiting[sock] else 0
        if not self.ended[sock] and not self.waiting[self.peer(sock)]:
            wanted |= selectors.EVENT_READ  # one buffer per direction: back-pressure
        return wanted

    def step(self, sock: socket.socket, mask: int) -> None:
        """Read or write what ``mask`` says is ready; ``OSError`` ends the pair."""
        if mask & selectors.EVENT_READ:
            try:
                chunk = sock.recv(BUFFER)
            except BlockingIOError:
                chunk = None
            if chunk == b"":
                self.ended[sock] = True
            elif chunk:
                self.waiting[self.peer(sock)] = chunk
        if mask & selectors.EVENT_WRITE and self.waiting[sock]:
            with contextlib.suppress(BlockingIOError):
                sent = sock.send(self.waiting[sock])
                self.waiting[sock] = self.waiting[sock][sent:]
        for end in self.sockets:
            if self.ended[self.peer(end)] and not self.waiting[end] and not self.shut[end]:
                end.shutdown(socket.SHUT_WR)
                self.shut[end] = True

    @property
    def finished(self) -> bool:
        return all(self.shut.values())

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()


class Forwarder:
    """The relay thread's loop: accept on the loopback listener, then move bytes."""

    def __init__(self, listener: socket.socket, socket_path: str) -> None:
        self.listener = listener
        self.socket_path = socket_path
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ, None)

    def run(self) -> None:
        while True:
            for key, mask in self.selector.select():
                pair = key.data
                if pair is None:
                    self.accept()
                    continue
                try:
                    pair.step(key.fileobj, mask)
                except OSError:
                    self.drop(pair)
                    continue
                self.update(pair)

    def accept(self) -> None:
        try:
            client, _ = self.listener.accept()
        except OSError:
            return
        worker = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            worker.settimeout(CONNECT_TIMEOUT_S)
            worker.connect(self.socket_path)
        except OSError:
            worker.close()
            client.close()  # the client sees the connection closed: the proxy is gone
            return
        client.setblocking(False)
        worker.setblocking(False)
        pair = Pair(client, worker)
        for sock in pair.sockets:
            self.selector.register(sock, selectors.EVENT_READ, pair)

    def update(self, pair: Pair) -> None:
        if pair.finished:
            self.drop(pair)
            return
        registered = self.selector.get_map()
        for sock in pair.sockets:
            wanted = pair.events(sock)
            if sock not in registered:
                if wanted:
                    self.selector.register(sock, wanted, pair)
            elif wanted:
                self.selector.modify(sock, wanted, pair)
            else:  # waits for its peer (a registration needs some event)
                self.selector.unregister(sock)

    def drop(self, pair: Pair) -> None:
        for sock in pair.sockets:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(sock)
        pair.close()


def start(socket_path: str) -> int:
    """Listen on ``127.0.0.1`` (a free port), relay to ``socket_path`` from a daemon
    thread, and set the proxy variables for the node's code; returns the port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.setblocking(False)
    port = int(listener.getsockname()[1])
    forwarder = Forwarder(listener, socket_path)
    threading.Thread(target=forwarder.run, name="runloom-network", daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    for name in PROXY_VARIABLES:
        os.environ[name] = url
    for name in NO_PROXY_VARIABLES:
        os.environ[name] = ""  # even loopback goes through the proxy, which decides
    return port
