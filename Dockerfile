# Pixeletica: one image for the API, the Celery workers and the monitor (see docker-compose.yml).
# syntax=docker/dockerfile:1

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/pixeletica \
    && /opt/pixeletica/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/pixeletica/bin/pip install --no-cache-dir '.[all]'

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin pixeletica \
    && mkdir -p /data \
    && chown pixeletica:pixeletica /data
COPY --from=build /opt/pixeletica /opt/pixeletica
ENV PATH=/opt/pixeletica/bin:$PATH \
    PIXELETICA_DATA_DIR=/data \
    XDG_CACHE_HOME=/tmp/cache \
    PYTHONUNBUFFERED=1
USER pixeletica
WORKDIR /home/pixeletica
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4).status != 200)"]
CMD ["pixeletica", "serve", "--host", "0.0.0.0", "--port", "8000"]
