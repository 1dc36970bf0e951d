"""The baseline: a bare Flask endpoint that parses the same JSON and returns a small JSON (no validation, no model,
no Redis). Served by gunicorn with the service's settings, it shows what the framework and server cost alone."""

from flask import Flask, request

app = Flask(__name__)


@app.post("/v1/comments")
def comments():
    body = request.get_json()
    return {"id": "0", "status": "approved", "length": len(body.get("text", ""))}, 201
