# {{ pip.copy_comment }}
COPY {% for source in pip.sources %}{{ source }} \
     {% endfor %}{{ REQUIREMENTS_DIR }}/
# The package index: PyPI unless a development build passes a mirror (docs/docker.md).
ARG {{ builds::ARG_PIP_INDEX_URL }}={{ default_index }}
ARG {{ builds::ARG_PIP_TRUSTED_HOST }}
RUN --mount=type=cache,target=/root/.cache/pip \
{%- if pip.netrc %}
    --mount=type=secret,id=pip-netrc,target=/root/.netrc \
{%- endif %}
    pip install{% for root in pip.roots %} {{ root }}{% endfor %}
