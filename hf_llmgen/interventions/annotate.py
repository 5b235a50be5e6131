"""The labelling page: a local web server showing the sample rows one at a time, saving every mark at once
to the labels file (so closing the page loses nothing)."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

import datasets

from .labelling import LabelsFile, Mark, check_mark, sample_items


class Annotation:
    """What the page works on: the dataset, the sample rows, the label names and the labels file."""

    def __init__(
        self, dataset: datasets.Dataset, rows: Sequence[int], names: Sequence[str], labels: LabelsFile, *,
        title: str = "", text_column: str = "text", label_column: str | None = "label",
    ) -> None:
        self.dataset = dataset
        self.rows = list(rows)
        self.names = list(names)
        self.labels = labels
        self.title = title
        self.text_column = text_column
        self.label_column = label_column
        self._lock = threading.Lock()

    def state(self) -> dict[str, Any]:
        """The page's data: label names and every sample row with its dataset label and current mark."""
        items = sample_items(self.dataset, self.rows, self.labels.read(), self.text_column, self.label_column)
        return {"dataset": self.title, "labels": self.names, "items": items}

    def mark(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Check and save one mark from the page; returns how many sample rows are marked."""
        row = payload.get("row")
        if row not in self.rows:
            raise ValueError(f"row: {row!r} is not one of the rows to label.")
        mark = Mark(row, self.dataset[row][self.text_column], payload.get("label"), bool(payload.get("out_of_scope")))
        check_mark(mark, self.dataset, self.names, self.text_column)
        with self._lock:
            self.labels.add(mark)
            marks = self.labels.read()
        return {"marked": sum(row in marks for row in self.rows)}


def make_server(annotation: Annotation, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """An HTTP server for the page (port 0: any free port; `server.server_address` says which)."""
    page = resources.files("hf_llmgen.interventions").joinpath("annotate.html").read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path in ("/", "/index.html"):
                self._send(200, page, "text/html; charset=utf-8")
            elif self.path == "/api/state":
                self._json(200, annotation.state())
            else:
                self._json(404, {"error": f"no page {self.path}"})

        def do_POST(self) -> None:
            if self.path != "/api/mark":
                self._json(404, {"error": f"no page {self.path}"})
                return
            try:
                payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                self._json(200, annotation.mark(payload))
            except (ValueError, TypeError, AttributeError) as err:
                self._json(400, {"error": str(err)})

        def _json(self, status: int, body: dict[str, Any]) -> None:
            self._send(status, json.dumps(body).encode("utf-8"), "application/json")

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the page's requests are not worth a line each."""

    return ThreadingHTTPServer((host, port), Handler)


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def serve_until_stopped(server: ThreadingHTTPServer) -> None:
    """Serve until Ctrl-C or SIGTERM, even where the shell started the command with SIGINT ignored (`cmd &`)."""
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
