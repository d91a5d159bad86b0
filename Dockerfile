# Production image: migrations, then uvicorn with several workers, as a non-root user.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /srv
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install . && useradd --system --uid 10001 --home /srv monitor && mkdir -p /srv/var && chown monitor /srv/var
USER monitor
ENV PORT=8000 WORKERS=2
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request,os;urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/readyz')"
CMD ["sh", "-c", "python -m app migrate && exec python -m app serve --host 0.0.0.0 --port ${PORT} --workers ${WORKERS}"]
