# Saylau: `docker build -t saylau . && docker run -e BOT_TOKEN=... -v saylau-data:/data saylau`
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_PATH=/data/saylau.db \
    HEALTH_HOST=0.0.0.0 \
    HEALTH_PORT=8081

WORKDIR /app
COPY pyproject.toml README.md babel.cfg ./
COPY bot ./bot
COPY locales ./locales
COPY data ./data
RUN pip install . \
    && python -c "from pathlib import Path; from bot.i18n import compile_catalogues; compile_catalogues(Path('locales'))" \
    && useradd --system --uid 10001 --home-dir /nonexistent saylau \
    && mkdir -p /data && chown saylau /data

USER saylau
VOLUME ["/data"]
# Webhook mode listens on 8080 when WEBHOOK_URL is set; /healthz and /metrics are on 8081 in
# either mode. The check is 503 while the database cannot be read or an update has waited
# longer than HEALTH_MAX_AGE; start-up (import, index, getMe) is within the start period.
EXPOSE 8080 8081
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['HEALTH_PORT'], timeout=4)"]
CMD ["python", "-m", "bot", "run"]
