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

from service import create_app  # noqa: E402
from service.storage import tokens  # noqa: E402
from service.storage.server import RedisServer, free_port  # noqa: E402

SAMPLES = [
    ("Awa Ndiaye", "Je ne suis pas d'accord : la hausse du prix du riz touche d'abord les ménages ruraux."),
    ("Moussa", "Super article !!! Visitez mon site http://gagner-vite.example.com pour gagner de l'argent"),
    ("Jean-Baptiste", "Merci pour ce reportage sur les pêcheurs de Saint-Louis, c'est du vrai journalisme."),
    ("promo2026", "Check out my channel and subscribe, free gift cards http://free-cards.example.com"),
    ("Fatou", "Quelqu'un sait pourquoi l'électricité est coupée depuis trois jours à Pikine ?"),
]


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        redis_server = RedisServer(Path(tmp), port=free_port(), persistent=False).start()
        try:
            app = create_app({"redis_url": redis_server.url, "embedded_redis": False, "data_dir": Path(tmp),
                              "approve_below": 0.0, "reject_at": 1.0})
            client = app.test_client()
            for i, (name, text) in enumerate(SAMPLES):
                client.post("/v1/comments", json={"name": name, "email": f"lecteur{i}@exemple.sn", "text": text,
                                                  "article_url": "https://journal.example.sn/economie/riz"})
            token = tokens.create(app.extensions["moderation"].redis, "awa", "moderator")
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
                page.click("text=Claim next 10")
                page.wait_for_selector(".lease")
                page.keyboard.press("j")
                page.screenshot(path=str(out), full_page=True)
                browser.close()
            server.shutdown()
        finally:
            redis_server.stop()
    print(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "review-page.png")
