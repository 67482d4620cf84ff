# Saylau: `docker build -t saylau . && docker run -e BOT_TOKEN=... -v saylau-data:/data saylau`
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_PATH=/data/saylau.db

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
# Webhook mode listens here when WEBHOOK_URL is set; long polling needs no port.
EXPOSE 8080
CMD ["python", "-m", "bot", "run"]
