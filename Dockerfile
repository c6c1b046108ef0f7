# The OSOM worker (`osom worker`) and HTTP API (`osom api`), as docker-compose.yml runs them.
#
# Dependencies come from the hashed runtime lock exactly as `make dev` installs them (pip refuses
# any file whose hash is not in requirements.lock), then the engine itself without resolving
# anything again. The image holds the runtime lock only: no pytest, mypy, ruff, playwright or
# Temporal test server (those are in requirements-test.lock, which only `make test` installs).
# Configuration arrives through the environment at run time (see docker-compose.yml):
# TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (Temporal's standard client configuration),
# OSOM_RECORD_URL (the record store's database), OSOM_PUBLIC_URL, OSOM_SMTP_URL, OSOM_MAIL_FROM,
# OSOM_DIRECTORY and OSOM_POLICY; OSOM_DATA_DIR is a scratch folder, /data unless set. The image
# holds no organisation data of its own.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /src

# Dependencies first: this layer is rebuilt only when the runtime lock changes.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

# The engine (the packages pyproject.toml names, worker.py and main.py, the `osom` command);
# .dockerignore keeps the rest out.
COPY . .
RUN pip install --no-deps .

# An unprivileged user owns /data, the scratch folder (the record lives in its database), so a
# fresh named volume mounted there is writable by it.
RUN useradd --system --uid 10001 --no-create-home --home-dir /nonexistent osom \
    && mkdir -p /data \
    && chown osom:osom /data
USER osom
WORKDIR /data
ENV OSOM_DATA_DIR=/data

CMD ["osom", "worker"]
