# A local stand-in for the official `redis` image, built from Debian's redis-server package
# because no container registry is reachable here (docs/docker-engine.md). Port 6379,
# `redis-cli` on PATH, data in /data, listening on every interface like the official image.
ARG DEBIAN_IMAGE=gscgen-local/debian:bookworm
FROM ${DEBIAN_IMAGE}

# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data \
    && chown redis:redis /data

WORKDIR /data
USER redis
EXPOSE 6379
CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--dir", "/data"]
