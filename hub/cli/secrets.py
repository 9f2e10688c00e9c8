"""`hub secrets ...`: versioned secrets on the local instance, as the operator of the project's org.

Values come from `--values JSON` or `--file F` (`-` reads stdin); `--var K=V` fills `${K}`
placeholders in them, so a value need not sit in a file or in shell history (`--var
PASSWORD="$DB_PASSWORD"`). Nothing here prints a value except `resolve`, which exists for that.
"""
from __future__ import annotations

import json
import re

import click
from flask.cli import AppGroup

from hub import tenancy
from hub.cli.output import current_keyring, fails_cleanly, operator, print_json, print_table
from hub.errors import Conflict, InvalidInput
from hub.secrets import store as secret_store
from hub.secrets.schemas import SecretSchema, SecretVersionSchema, SecretWrittenSchema
from hub.storage.models import Secret
from hub.storage.pagination import MAX_LIMIT, paginate

# `$${` is a literal `${`, as in resolve templates; `${NAME}` a placeholder; other `${` text stays.
_PLACEHOLDER = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SECRET_COLUMNS = ["name", "current_version", "enabled_version", "description", "updated_at"]
_VERSION_COLUMNS = ["version", "state", "sha256", "created_at", "state_changed_at"]
_VERSION_NUMBER = click.IntRange(1, secret_store.MAX_VERSION)


@click.group("secrets", cls=AppGroup)
def secrets_group():
    """Versioned secrets of a project (no command but `resolve` prints a value)."""


# -- helpers -------------------------------------------------------------------------------------

def _operator_and_project(ref: str) -> tuple[tenancy.Principal, str]:
    """The operator of the project's org, and the project's id."""
    project = tenancy.project_by_ref(ref)
    if project is None:
        raise click.ClickException(f"No project '{secret_store.printable(ref)}' in this hub. 'hub init' "
                                   "makes the first one; 'hub projects list --org ORG' lists an org's.")
    return operator(project.org), project.id


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _parse_vars(pairs: tuple[str, ...]) -> dict[str, str]:
    variables = {}
    for position, pair in enumerate(pairs, start=1):
        name, sep, value = pair.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name, flags=re.ASCII):
            # Nothing of the argument is shown: `--var "$PASSWORD"` forgot its `NAME=`.
            raise click.BadParameter(f"the {_ordinal(position)} --var is not NAME=VALUE with NAME made "
                                     "of letters, digits and '_' (its text is not shown: it may hold "
                                     "a value).", param_hint="--var")
        variables[name] = value
    return variables


def _substitute(text: str, variables: dict[str, str], where: str) -> str:
    unknown = []

    def replace(match: re.Match) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group(1)
        if name not in variables:
            unknown.append(name)
            return match.group(0)
        return variables[name]

    result = _PLACEHOLDER.sub(replace, text)
    if unknown:
        names = ", ".join(f"${{{n}}}" for n in dict.fromkeys(unknown))
        raise click.ClickException(f"Unknown placeholder {names} in {where}: pass it with "
                                   "--var NAME=VALUE, or write $${ for a literal ${.")
    return result


def _read_text(file, where: str) -> str:
    try:
        return file.read()
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{where} is not UTF-8 text (byte {exc.start} is not valid "
                                   "UTF-8).") from None


def _read_values(values_json: str | None, file, var_pairs: tuple[str, ...]) -> dict:
    """The values object from --values or --file, with --var placeholders filled in its strings."""
    if (values_json is None) == (file is None):
        raise click.UsageError("Give the values with exactly one of --values JSON or --file F.")
    where = "--values" if file is None else f"--file {file.name}"
    text = values_json if file is None else _read_text(file, where)
    try:
        values = json.loads(text)
    except ValueError as exc:
        raise click.ClickException(f"{where} is not JSON ({exc.msg} at line {exc.lineno}, column "
                                   f"{exc.colno}). It must be an object of string keys to string "
                                   "values, e.g. '{\"password\": \"${PASSWORD}\"}'.") from None
    variables = _parse_vars(var_pairs)
    if isinstance(values, dict):
        # Placeholders are filled in the parsed strings, so a value may hold quotes or newlines.
        values = {key: _substitute(value, variables, f"{where} (key '{secret_store.printable(key)}')")
                  if isinstance(value, str)
                  else value for key, value in values.items()}
    return values


def _all_pages(fetch) -> list:
    items, cursor = [], None
    while True:
        page = fetch(cursor)
        items.extend(page.items)
        if not page.has_more:
            return items
        cursor = page.next_cursor


def _show(data, schema, columns: list[str], as_json: bool, *, many: bool = False) -> None:
    dumped = schema.dump(data, many=many)
    if as_json:
        print_json(dumped)
    else:
        print_table(dumped if many else [dumped], columns)


def _show_written(written: secret_store.Written, as_json: bool) -> None:
    written.secret.written_version = written.version
    dumped = SecretWrittenSchema().dump(written.secret)
    if as_json:
        print_json(dumped)
    else:
        print_table([dumped | {"state": dumped["version"]["state"], "sha256": dumped["version"]["sha256"],
                               "version": dumped["version"]["version"]}],
                    ["name", "version", "state", "sha256"])


_project_option = click.option("--project", "project_ref", required=True, help="Project handle or id.")
_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (as the API returns it).")
_values_options = [
    click.option("--values", "values_json", metavar="JSON", help="The values: a JSON object of strings."),
    click.option("--file", "values_file", type=click.File("r", encoding="utf-8"), metavar="F",
                 help="Read the values (a JSON object) from a file; '-' reads stdin."),
    click.option("--var", "var_pairs", multiple=True, metavar="K=V",
                 help="Fill ${K} in the values with V (repeatable); $${ is a literal ${."),
]


def _with_values(func):
    for option in reversed(_values_options):
        func = option(func)
    return func


# -- commands ------------------------------------------------------------------------------------

@secrets_group.command("create")
@_project_option
@click.option("--name", required=True, help="1-100 letters, digits, '_' and '-'; unique in the project.")
@click.option("--description", default=None)
@_with_values
@_json_option
@fails_cleanly
def create_command(project_ref, name, description, values_json, values_file, var_pairs, as_json):
    """Create a secret; its values become version 1, ENABLED."""
    values = _read_values(values_json, values_file, var_pairs)
    principal, project_id = _operator_and_project(project_ref)
    try:
        written = secret_store.create_secret(current_keyring(), principal, project_id, name=name,
                                             values=values, description=description)
    except Conflict as exc:
        if "name" not in (exc.errors or {}):
            raise
        shown = secret_store.printable(project_ref)
        raise click.ClickException(
            f"A secret named '{name}' already exists in project '{shown}'. Write a new version of it "
            f"with 'hub secrets update {name} --project {shown}', or choose another --name.") from None
    _show_written(written, as_json)


@secrets_group.command("update")
@click.argument("name")
@_project_option
@click.option("--description", default=None, help="Replace the description too.")
@_with_values
@click.option("--cas", type=click.IntRange(min=1), default=None,
              help="Write only if the newest version is N (else exit 1, naming the newest).")
@_json_option
@fails_cleanly
def update_command(name, project_ref, description, values_json, values_file, var_pairs, cas, as_json):
    """Write a new ENABLED version (a rotation); the enabled one becomes DISABLED."""
    values = _read_values(values_json, values_file, var_pairs)
    principal, project_id = _operator_and_project(project_ref)
    extra = {"description": description} if description is not None else {}
    try:
        written = secret_store.update_secret(current_keyring(), principal, project_id, name,
                                             values=values, cas=cas, **extra)
    except Conflict as exc:
        newest = exc.extra.get("current_version")
        if cas is None or newest is None:
            raise
        shown = secret_store.printable(project_ref)
        raise click.ClickException(
            f"Check-and-set failed: the newest version of secret '{name}' is {newest}, not {cas}. See "
            f"what changed with 'hub secrets list-versions {name} --project {shown}', then run 'hub "
            f"secrets update {name} --project {shown} --cas {newest}' to write after it.") from None
    _show_written(written, as_json)


@secrets_group.command("get")
@click.argument("name")
@_project_option
@_json_option
@fails_cleanly
def get_command(name, project_ref, as_json):
    """A secret's metadata (never its values)."""
    principal, project_id = _operator_and_project(project_ref)
    _show(secret_store.get_secret(principal, project_id, name), SecretSchema(), _SECRET_COLUMNS, as_json)


@secrets_group.command("list")
@_project_option
@_json_option
@fails_cleanly
def list_command(project_ref, as_json):
    """The project's secrets (metadata only), oldest first."""
    principal, project_id = _operator_and_project(project_ref)
    query = secret_store.list_secrets(principal, project_id)
    rows = _all_pages(lambda cursor: paginate(query, Secret.id, limit=MAX_LIMIT, cursor=cursor))
    _show(rows, SecretSchema(), _SECRET_COLUMNS, as_json, many=True)


@secrets_group.command("list-versions")
@click.argument("name")
@_project_option
@_json_option
@fails_cleanly
def list_versions_command(name, project_ref, as_json):
    """Every version of a secret by number, with its state and sha256."""
    principal, project_id = _operator_and_project(project_ref)
    rows = _all_pages(lambda cursor: secret_store.list_versions(principal, project_id, name,
                                                                limit=MAX_LIMIT, cursor=cursor))
    _show(rows, SecretVersionSchema(), _VERSION_COLUMNS, as_json, many=True)


@secrets_group.command("get-version")
@click.argument("name")
@click.argument("number", type=_VERSION_NUMBER, metavar="N")
@_project_option
@_json_option
@fails_cleanly
def get_version_command(name, number, project_ref, as_json):
    """One version's metadata (never its values)."""
    principal, project_id = _operator_and_project(project_ref)
    _show(secret_store.get_version(principal, project_id, name, number), SecretVersionSchema(),
          _VERSION_COLUMNS, as_json)


def _state_command(command_name: str, change, help_text: str, confirm: str | None = None):
    @click.argument("name")
    @click.argument("number", type=_VERSION_NUMBER, metavar="N")
    @_project_option
    @_json_option
    @fails_cleanly
    def command(name, number, project_ref, as_json, **_):
        principal, project_id = _operator_and_project(project_ref)
        _show(change(principal, project_id, name, number), SecretVersionSchema(), _VERSION_COLUMNS,
              as_json)

    command.__doc__ = help_text
    if confirm:
        command = click.confirmation_option(prompt=confirm)(command)
    secrets_group.command(command_name)(command)


_state_command("enable", secret_store.enable_version,
               "Make version N the one ENABLED (a rollback); the enabled one becomes DISABLED.")
_state_command("disable", secret_store.disable_version, "Disable version N.")
_state_command("destroy", secret_store.destroy_version,
               "Erase version N's values for good (its metadata and sha256 stay).",
               confirm="Erase this version's values for good?")


@secrets_group.command("delete")
@click.argument("name")
@_project_option
@click.confirmation_option(prompt="Delete this secret with every version?")
@fails_cleanly
def delete_command(name, project_ref):
    """Delete a secret with every version and its ciphertext."""
    principal, project_id = _operator_and_project(project_ref)
    secret_store.delete_secret(principal, project_id, name)
    click.echo(f"deleted secret {name}")


@secrets_group.command("resolve")
@_project_option
@click.option("--template", default=None, help="Text with ${secret:NAME.KEY} references.")
@click.option("--file", "template_file", type=click.File("r", encoding="utf-8"), default=None,
              help="Read the template from a file; '-' reads stdin.")
@fails_cleanly
def resolve_command(project_ref, template, template_file):
    """Print a template with every ${secret:NAME.KEY} replaced by its ENABLED value."""
    if (template is None) == (template_file is None):
        raise click.UsageError("Give the template with exactly one of --template T or --file F.")
    text = template if template_file is None else _read_text(template_file, f"--file {template_file.name}")
    principal, project_id = _operator_and_project(project_ref)
    try:
        result = secret_store.resolve(current_keyring(), principal, project_id, text)
    except InvalidInput as exc:
        raise click.ClickException("\n  ".join(["Cannot resolve the template:", *exc.errors["template"]])
                                   if exc.errors and "template" in exc.errors else exc.detail) from None
    click.echo(result, nl=template_file is None)
