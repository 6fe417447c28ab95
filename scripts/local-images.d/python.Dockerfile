# A local stand-in for the official `python:<version>-slim` image, built from Debian's own
# Python packages because no container registry is reachable on this project's machines
# (docs/docker-engine.md). Tagged `python:<version>-slim`, so the generated Dockerfiles
# build unchanged. Like the official image: `python` and `python3` on PATH, a working
# `python3 -m venv` (pip comes with every venv), a UTF-8 locale. Unlike it: Debian's
# interpreter under /usr/bin instead of a source build under /usr/local, and no global `pip`
# (the generated Dockerfiles install into a venv).
ARG DEBIAN_IMAGE=gscgen-local/debian:bookworm
FROM ${DEBIAN_IMAGE}

# The CA bundle of the machine that builds the stand-in: where TLS to PyPI is intercepted
# (as on these machines), pip inside the image must trust the same authorities as the host.
COPY host-ca-certificates.crt /usr/local/share/gscgen/host-ca-certificates.crt

# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/* \
    && ln -s /usr/bin/python3 /usr/local/bin/python

ENV LANG=C.UTF-8 \
    PIP_CERT=/usr/local/share/gscgen/host-ca-certificates.crt \
    SSL_CERT_FILE=/usr/local/share/gscgen/host-ca-certificates.crt
CMD ["python3"]
