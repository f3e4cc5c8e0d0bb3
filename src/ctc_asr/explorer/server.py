"""The explorer's HTTP server: the standard library's ThreadingHTTPServer, GET only. It serves the page's three
static files from the package, JSON from the Explorer, and clips by utterance id. No part of a request's path
reaches the file system: the static files are a fixed table read at start, and a clip is looked up by its id
among the test utterances, so `../` or an absolute path is just an id that does not exist (404)."""

import ipaddress
import json
import socket
import sys
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qsl, unquote, urlsplit

from ctc_asr.core.errors import UserError
from ctc_asr.explorer.app import Explorer
from ctc_asr.explorer.table import BadQuery

STATIC = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
          "style.css": "text/css; charset=utf-8"}
# The page runs its own files only: no inline script, nothing fetched from elsewhere, never framed.
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
          "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
LOCAL_NAMES = {"localhost", "localhost.localdomain"}


def static_files() -> dict[str, tuple[bytes, str]]:
    """URL path -> (bytes, content type) of every file the page needs."""
    folder = resources.files("ctc_asr.explorer") / "static"
    files = {f"/static/{name}": ((folder / name).read_bytes(), kind) for name, kind in STATIC.items()}
    return {"/": files["/static/index.html"], **files}


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.lower() in LOCAL_NAMES


class Server(ThreadingHTTPServer):
    daemon_threads = True  # Ctrl-C does not wait for a browser's idle keep-alive connection

    def __init__(self, explorer: Explorer, host: str, port: int):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.explorer, self.static, self.loopback = explorer, static_files(), is_loopback(host)
        super().__init__((host.strip("[]"), port), Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if not self._host_allowed():
            return self._json({"error": "unexpected Host header"}, HTTPStatus.FORBIDDEN)
        parts = urlsplit(self.path)
        try:
            self._route(parts.path, dict(parse_qsl(parts.query)))
        except BadQuery as error:
            self._json({"error": str(error)}, HTTPStatus.BAD_REQUEST)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away (a media element drops requests it no longer needs)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            self._json({"error": "internal error (see the server's output)"}, HTTPStatus.INTERNAL_SERVER_ERROR)

    def _route(self, path: str, params: dict[str, str]) -> None:
        explorer = self.server.explorer
        if path in self.server.static:
            return self._send(*self.server.static[path])
        pages = {"/api/summary": explorer.summary, "/api/errors": explorer.errors,
                 "/api/utterances": lambda: explorer.utterances(params)}
        if path in pages:
            return self._json(pages[path]())
        if path.startswith("/api/utterance/"):
            return self._json_or_404(explorer.utterance(unquote(path.removeprefix("/api/utterance/"))))
        if path.startswith("/audio/") and path.endswith(".wav"):
            utterance = unquote(path.removeprefix("/audio/").removesuffix(".wav"))
            wav = explorer.clips.wav(utterance) if utterance in explorer.positions else None  # test clips only
            return self._audio(wav) if wav is not None else self._not_found()
        self._not_found()

    def _host_allowed(self) -> bool:
        """On a loopback address, only a loopback Host: a web page elsewhere cannot reach the server through
        a name of its own that resolves to 127.0.0.1 (DNS rebinding)."""
        if not self.server.loopback:
            return True
        host = self.headers.get("Host", "")
        name = host[1:host.find("]")] if host.startswith("[") else host.partition(":")[0]
        return is_loopback(name)

    def _audio(self, wav: bytes) -> None:
        """The WAV file, or the byte range a media element asks for (206) when it is not the whole file."""
        span = byte_range(self.headers.get("Range"), len(wav))
        if span is None:
            unsatisfiable = HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE
            return self._send(b"", "text/plain", unsatisfiable, {"Content-Range": f"bytes */{len(wav)}"})
        start, end = span
        if (start, end) == (0, len(wav) - 1):
            return self._send(wav, "audio/wav", headers={"Accept-Ranges": "bytes"})
        self._send(wav[start:end + 1], "audio/wav", HTTPStatus.PARTIAL_CONTENT,
                   {"Accept-Ranges": "bytes", "Content-Range": f"bytes {start}-{end}/{len(wav)}"})

    def _json(self, value, status: HTTPStatus = HTTPStatus.OK) -> None:
        self._send(json.dumps(value, ensure_ascii=False).encode(), "application/json; charset=utf-8", status)

    def _json_or_404(self, value) -> None:
        return self._not_found() if value is None else self._json(value)

    def _not_found(self) -> None:
        self._json({"error": "not found"}, HTTPStatus.NOT_FOUND)

    def _send(self, body: bytes, kind: str, status: HTTPStatus = HTTPStatus.OK, headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": kind, "Content-Length": str(len(body)), "Cache-Control": "no-store",
                            "X-Content-Type-Options": "nosniff", "Content-Security-Policy": POLICY,
                            "Referrer-Policy": "no-referrer", **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        """Quiet: the server's output is its URL line and its errors."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single-range `Range: bytes=...` header; the whole file for none, or for one this
    server does not take (several ranges, malformed: RFC 9110 lets a server ignore Range); None when the range
    starts beyond the file (416)."""
    unit, _, spec = (header or "").partition("=")
    first, dash, last = spec.strip().partition("-")
    if unit.strip() != "bytes" or not dash or not (first or last) or not (first + last).isdigit():
        return 0, size - 1
    if not first:  # bytes=-N: the last N bytes
        return (max(size - int(last), 0), size - 1) if int(last) else None
    if last and int(last) < int(first):
        return 0, size - 1
    if int(first) >= size:
        return None
    return int(first), min(int(last), size - 1) if last else size - 1


def serve(explorer: Explorer, host: str, port: int) -> None:
    """Serve until Ctrl-C; the URL goes to stdout on one line."""
    try:
        server = Server(explorer, host, port)
    except OSError as error:  # the port taken, an address this machine does not have
        raise UserError(f"{host}:{port}: cannot listen there ({error.strerror or error})") from None
    if not server.loopback:
        print(f"explore: listening on {host}: whoever reaches this machine can read the test set and hear its clips",
              file=sys.stderr)
    compared = f", compared with {explorer.other.name}" if explorer.other else ""
    print(f"explore: {server.url} ({len(explorer.frame)} test utterances{compared}; Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
