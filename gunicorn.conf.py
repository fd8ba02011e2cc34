"""Gunicorn settings for serving the forum: `.venv/bin/gunicorn -c gunicorn.conf.py`.

Environment:
  PORT             port to listen on, on 127.0.0.1 (default 5000); put a reverse proxy in front
  WEB_CONCURRENCY  worker processes (default 2: one per core on the reference machine)
  WEB_THREADS      threads per worker (default 4)
  JOBS_WORKER      1: also run the background-jobs worker (`flask --app forum jobs worker`)
                   beside the web workers, started and stopped with the server (`make run` sets
                   it); leave it unset where the jobs workers run as their own service
  FORUM_*          the forum's own settings (README: Configuration); every worker reads them

Command-line options override this file (`--bind 0.0.0.0:8000`, `--access-logfile -`), and a
WSGI app given on the command line replaces `wsgi_app`.
"""

import os
import subprocess
import sys

wsgi_app = "forum:create_app()"
bind = [f"127.0.0.1:{os.environ.get('PORT', '5000')}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads, not one request per process: a client that sends its headers a byte at a time
# holds one thread, not a whole worker, so two slow clients no longer take the site down. In
# production put a buffering reverse proxy (nginx, Caddy) in front as well (README: Deployment).
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))

# Each worker builds its own app: its own database connections (a connection must never cross a
# fork) and its own search index handles and spelling vocabulary. The secret key must be shared:
# set FORUM_SECRET_KEY, or let the first worker write instance/secret_key for the others.
preload_app = False

# A request that runs this long is stuck (a page takes milliseconds; a search, tens of them):
# the worker is killed and replaced. Graceful restarts let requests in flight finish.
timeout = 30
graceful_timeout = 20

accesslog = None  # off: one line per request costs throughput; `--access-logfile -` turns it on
errorlog = "-"
loglevel = "info"

# gunicorn ≥ 25.1 opens a control socket under ~/.gunicorn by default; two servers on one machine
# would fight over it, and the forum does not use gunicornc. Older versions ignore this setting.
control_socket_disable = True


def post_worker_init(worker):
    """Catch the search index up, then freeze what the app allocated at start-up.

    The outbox may hold rows a crash left behind (forum.search.drain_at_start: bounded). Frozen,
    the ~110,000 long-lived objects (modules, the app, SQLAlchemy's mappers) no longer make each
    full collection a 60 ms pause (the board pages' p99 when not queueing): ~2.5 ms.
    """
    import gc

    from forum.search import drain_at_start

    drain_at_start(worker.wsgi)
    gc.collect()
    gc.freeze()


def when_ready(server):
    """Start the jobs worker once the server listens (JOBS_WORKER=1), so one command runs all."""
    if os.environ.get("JOBS_WORKER") != "1":
        return
    server.jobs_worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "forum", "jobs", "worker"]
    )
    server.log.info("started the jobs worker (pid %s)", server.jobs_worker.pid)


def on_exit(server):
    """Stop the jobs worker with the server. Work it had in hand stays in the database (events
    and queued mail are rows), so the next start picks it up."""
    worker = getattr(server, "jobs_worker", None)
    if worker is not None and worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
