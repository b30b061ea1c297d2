# The service on its embedded SQLite (data in the /data volume) or, with
# SELECTION_DATABASE_URL=postgresql://…, on PostgreSQL. Migrations run at start.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
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
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)" || exit 1

# `serve` migrates, creates the first admin when there is none (password from
# SELECTION_ADMIN_PASSWORD, or generated and printed once), then runs uvicorn.
CMD ["python", "-m", "service", "serve", "--host", "0.0.0.0", "--port", "8000"]
