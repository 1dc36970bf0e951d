"""Take the README's screenshot of the review page: a throw-away Redis, sample comments, headless Chromium.

Usage: .venv/bin/python scripts/review_screenshot.py [OUT.png]   (default docs/review-page.png)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.app import create_app  # noqa: E402
from service.storage import tokens  # noqa: E402
from service.storage.server import RedisServer, free_port  # noqa: E402

# Comments the shipped model sends to review with its own thresholds (checked when the screenshot is made).
SAMPLES = [
    ("Mariam", "Attention, un faux agent Wave m'a appelé hier pour me demander mon code secret : ne donnez rien"),
    ("Professeur Kofi", "Professeur Kofi, grand voyant médium, résout tous vos problèmes de couple et de travail."),
    ("Jean", "Gagnez de l'argent facilement depuis chez vous, contactez-moi en privé"),
    ("Fatou", "Les enseignants ont raison de réclamer leurs primes, le ministre doit répondre et payer ce qui est dû "
              "depuis deux ans. Contactez-moi pour un prêt rapide."),  # held for its last sentence
    ("promo2026", "Buy cheap viagra online"),
]


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        redis_server = RedisServer(Path(tmp), port=free_port(), persistent=False).start()
        try:
            app = create_app({"redis_url": redis_server.url, "embedded_redis": False, "data_dir": Path(tmp)})
            client = app.test_client()
            redis = app.extensions["moderation"].redis
            site = {"Authorization": f"Bearer {tokens.create(redis, 'journal', 'site')}"}  # as the website posts
            for i, (name, text) in enumerate(SAMPLES):
                answer = client.post("/v1/comments", headers=site, json={
                    "name": name, "email": f"lecteur{i}@exemple.sn", "ip": f"196.207.10.{i + 1}", "text": text,
                    "article_url": "https://journal.example.sn/economie/riz",
                    "article_title": "Riz : les prix flambent avant la soudure"}).get_json()
                assert answer["status"] == "pending", (text, answer)  # the samples must be what a moderator sees
            token = tokens.create(redis, "awa", "moderator")
            port = free_port()
            server = make_server("127.0.0.1", port, app, threaded=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), headless=True,
                                                     args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                                                           "--disable-background-networking"])
                page = browser.new_page(viewport={"width": 1100, "height": 1000})
                page.goto(f"http://localhost:{port}/review")
                page.fill("#token", token)
                page.click("button[type=submit]")
                page.wait_for_selector("body[data-ready]")
                page.click("button[data-action=claim]")
                page.wait_for_selector(".lease")
                page.keyboard.press("j")
                page.keyboard.press("r")  # the second card: the decision note with Undo takes its place
                page.wait_for_selector(".toast")
                page.screenshot(path=str(out), full_page=True)
                browser.close()
            server.shutdown()
        finally:
            redis_server.stop()
    print(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "review-page.png")
