"""The default deployment (gunicorn.conf.py, as `make run` serves it) stays up for everyone
while clients dribble their request headers a byte at a time (slowloris)."""

from __future__ import annotations

import socket
import urllib.request
from urllib.parse import urlsplit

from tests.databases import migrate
from tests.servers import forum_env, gunicorn

SLOW_CLIENTS = 2  # one per default worker: enough to hang every sync worker
ANSWER_WITHIN = (
    10  # seconds; a hung server answers only when gunicorn's 30 s timeout kills a worker
)


def test_clients_sending_headers_slowly_do_not_block_other_members(tmp_path):
    url = f"sqlite:///{tmp_path / 'forum.db'}"
    migrate(url, tmp_path)
    with gunicorn(forum_env(url, tmp_path), tmp_path, workers=2, settings_file=True) as base_url:
        address = urlsplit(base_url)
        slow = [
            socket.create_connection((address.hostname, address.port)) for _ in range(SLOW_CLIENTS)
        ]
        try:
            for connection in slow:  # a request line and one header, never finished
                connection.sendall(b"GET / HTTP/1.1\r\nHost: forum\r\nX-Slow: a")
            with urllib.request.urlopen(base_url + "/", timeout=ANSWER_WITHIN) as response:
                assert response.status == 200
        finally:
            for connection in slow:
                connection.close()
