"""Self-hosted comment moderation service.

The package imports nothing itself: `python -m service serve`, which only
supervises gunicorn and the embedded Redis, and the command line's other
commands load only what they use, not Flask and the model's code. The app
is `service.app.create_app()`.
"""
