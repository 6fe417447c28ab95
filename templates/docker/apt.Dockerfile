{% if apt.unpinned -%}
# Debian packages are not version-pinned: Debian drops superseded versions from its
# mirrors, so pinned builds break at the next security update (docs/docker.md, DL3008).
# hadolint ignore=DL3008
{% endif -%}
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean \
    && echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > /etc/apt/apt.conf.d/keep-cache \
    && apt-get update \
    && apt-get install -y --no-install-recommends \
{%- for package in apt.packages %}
        {{ package }}{% if !loop.last %} \{% endif %}
{%- endfor %}
