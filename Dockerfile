FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLBACKEND=Agg \
    BACKCHAIN_DB=/data/backchain.db \
    BACKCHAIN_FILES_DIR=/data/files

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY bot ./bot
COPY storage ./storage
COPY content ./content
RUN pip install --no-cache-dir . \
    && groupadd --gid 10001 backchain \
    && useradd --create-home --uid 10001 --gid 10001 backchain \
    && mkdir -p /data \
    && chown backchain:backchain /data

USER 10001:10001
VOLUME ["/data"]

# The reminder tick refreshes a heartbeat file next to the database; stale means stuck.
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 \
    CMD ["backchain", "health"]

# python-telegram-bot stops on SIGTERM: it finishes the update in hand, then closes the database.
STOPSIGNAL SIGTERM
CMD ["backchain", "run"]
