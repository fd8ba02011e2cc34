"""The baseline of bench/pages.py: a bare Flask "hello world", served exactly like the forum
(`.venv/bin/gunicorn -c gunicorn.conf.py --pythonpath bench hello_app:app`)."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
