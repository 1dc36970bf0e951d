# syntax=docker/dockerfile:1
# Build: a virtualenv with the service, the training tools and their dependencies.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY service ./service
COPY model_training ./model_training
# The review page's catalogs are compiled here, at install, from their .po files.
RUN /opt/venv/bin/pip install --no-cache-dir babel==2.17.0 \
    && /opt/venv/bin/pybabel compile -d service/translations \
    && /opt/venv/bin/pip install --no-cache-dir .

# Run: the virtualenv, the shipped model, a non-root user.
FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home moderation \
    && mkdir -p /app/models /app/var/labels /app/corpora \
    && chown -R moderation:moderation /app
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --chown=moderation:moderation models /app/models
COPY --chown=moderation:moderation data/fr_news_comments.csv /app/data/fr_news_comments.csv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    MODERATION_MODELS_ROOT=/app/models \
    MODERATION_DATA_HOME=/app/corpora \
    MODERATION_DATA_DIR=/app/var
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"]
# Settings come from the environment (see .env.example); MODERATION_REDIS_URL must be set in a container.
CMD ["python", "-m", "service", "serve"]
