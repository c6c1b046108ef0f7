# The OSOM worker (`osom worker`), as docker-compose.yml runs it.
#
# Dependencies come from the hashed lock file exactly as `make` installs them (pip refuses any
# file whose hash is not in requirements.lock), then the engine itself without resolving anything
# again. Configuration arrives through the environment at run time (see docker-compose.yml):
# TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (Temporal's standard client configuration), OSOM_DATA_DIR,
# OSOM_DIRECTORY and OSOM_POLICY. The image holds no organisation data of its own.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /src

# Dependencies first: this layer is rebuilt only when the lock file changes.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

# The engine (the packages pyproject.toml names, worker.py and main.py, the `osom` command);
# .dockerignore keeps the rest out.
COPY . .
RUN pip install --no-deps .

# An unprivileged user owns /data, so a fresh named volume mounted there is writable by it.
RUN useradd --system --uid 10001 --no-create-home --home-dir /nonexistent osom \
    && mkdir -p /data \
    && chown osom:osom /data
USER osom
WORKDIR /data
ENV OSOM_DATA_DIR=/data

CMD ["osom", "worker"]
