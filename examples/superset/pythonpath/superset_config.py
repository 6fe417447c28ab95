"""Superset configuration of the gscgen example (a placeholder written for it).

Secrets are files under /run/secrets/ (Compose `secrets:`, Kubernetes projected Secrets);
the rest comes from the environment that project.kdl sets.
"""

import os
from pathlib import Path


def _secret(name: str) -> str:
    return Path("/run/secrets", name).read_text(encoding="utf-8").strip()


SECRET_KEY = _secret("superset_secret_key")

SQLALCHEMY_DATABASE_URI = "postgresql+psycopg2://{user}:{password}@{host}:5432/{db}".format(
    user=os.environ["DATABASE_USER"],
    password=_secret("db_password"),
    host=os.environ["DATABASE_HOST"],
    db=os.environ["DATABASE_DB"],
)

_REDIS = "redis://{}:6379".format(os.environ["REDIS_HOST"])

CACHE_CONFIG = {
    "CACHE_TYPE": "RedisCache",
    "CACHE_DEFAULT_TIMEOUT": 300,
    "CACHE_KEY_PREFIX": "superset_",
    "CACHE_REDIS_URL": f"{_REDIS}/1",
}
DATA_CACHE_CONFIG = CACHE_CONFIG


class CeleryConfig:
    broker_url = f"{_REDIS}/0"
    result_backend = f"{_REDIS}/0"
    imports = ("superset.sql_lab", "superset.tasks.scheduler")
    worker_prefetch_multiplier = 1
    task_acks_late = False


CELERY_CONFIG = CeleryConfig
