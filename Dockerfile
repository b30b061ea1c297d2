# The service on its embedded SQLite (data in the /data volume) or, with
# SELECTION_DATABASE_URL=postgresql://…, on PostgreSQL. Migrations run at start.
# Production mode: it refuses to start without a signing key, given in SELECTION_SECRET_KEY
# or written once into the volume (`python -m service generate-secret-key`, see README).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SELECTION_ENVIRONMENT=production \
    SELECTION_DATA_DIR=/data

RUN useradd --create-home --uid 10001 app && mkdir -p /data && chown app:app /data
WORKDIR /app

COPY pyproject.toml README.md ./
COPY service ./service
RUN pip install .

USER app
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)" || exit 1

# `serve` checks that /data is writable and that there is a signing key, migrates, creates
# the first admin when there is none (password from SELECTION_ADMIN_PASSWORD, or generated
# and printed once in the banner), then runs uvicorn.
CMD ["python", "-m", "service", "serve", "--host", "0.0.0.0", "--port", "8000"]
