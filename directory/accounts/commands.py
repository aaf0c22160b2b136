"""`aid-directory user ...` and `aid-directory token ...`: thin wrappers over accounts.service."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from sqlalchemy.orm import Session

from directory.accounts import service
from directory.accounts.models import Role
from directory.cli import friendly_errors, load_settings, open_engine, require_current_schema
from directory.errors import DomainError, ValidationFailed

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def _session() -> Iterator[Session]:
    from directory.db import make_sessionmaker, session_scope

    settings = load_settings()
    engine = open_engine(settings)
    require_current_schema(engine)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _domain_errors(func: F) -> F:
    """Domain errors become one line (and exit 2), like configuration errors."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ValidationFailed as exc:
            for err in exc.errors:
                click.secho(f"Error: {err['path']}: {err['message']}", fg="red", err=True)
            sys.exit(2)
        except DomainError as exc:
            click.secho(f"Error: {exc.detail}", fg="red", err=True)
            sys.exit(2)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper  # type: ignore[return-value]


user_group: click.Group = click.Group(
    "user", help="Manage volunteer, moderator and admin accounts."
)


@user_group.command("create")
@click.option("--email", required=True)
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), default="volunteer", show_default=True
)
@click.option("--name", "display_name", default="", help="display name (default: from the email)")
@click.option("--locale", default="en", show_default=True)
@click.option(
    "--region",
    "regions",
    multiple=True,
    metavar="CODE",
    help="limit to this region (place code, e.g. UA-30); repeat for several",
)
@click.option("--trusted", is_flag=True, help="may publish status/capacity at once (if allowed)")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@friendly_errors
@_domain_errors
def user_create(
    email: str,
    role: str,
    display_name: str,
    locale: str,
    regions: tuple[str, ...],
    trusted: bool,
    password_stdin: bool,
) -> None:
    """Create an account (the password is asked for, or read from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _session() as session:
        account = service.create_account(
            session,
            email=email,
            password=password,
            role=role,
            display_name=display_name,
            locale=locale,
            region_codes=regions,
            trusted=trusted,
        )
        click.echo(f"Created {account.role} {account.email} ({account.id})")


@user_group.command("list")
@friendly_errors
@_domain_errors
def user_list() -> None:
    """List accounts: email, role, regions, second factor, disabled."""
    with _session() as session:
        for a in service.list_accounts(session):
            regions = len(a.regions)
            flags = [
                "disabled" if a.disabled else "",
                "trusted" if a.trusted else "",
                "totp" if a.totp_enabled_at else "",
            ]
            click.echo(
                f"{a.email}\t{a.role}\t"
                f"{'all regions' if not regions else f'{regions} region(s)'}\t"
                + " ".join(f for f in flags if f)
            )


@user_group.command("disable")
@click.argument("email")
@click.option("--enable", is_flag=True, help="re-enable instead")
@friendly_errors
@_domain_errors
def user_disable(email: str, enable: bool) -> None:
    """Disable an account (its tokens stop working at once)."""
    with _session() as session:
        account = service.get_account_by_email(session, email=email)
        if account is None:
            raise ValidationFailed([{"path": "email", "message": "no such account"}])
        service.set_disabled(session, account=account, disabled=not enable)
        click.echo(f"{'Enabled' if enable else 'Disabled'} {account.email}")


token_group: click.Group = click.Group(
    "token", help="Manage API tokens (shown once, stored hashed)."
)


@token_group.command("create")
@click.option("--email", required=True)
@click.option("--expires-days", type=click.IntRange(1, 3650), default=90, show_default=True)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(service.SCOPES),
    help="default: everything the account's role allows; repeat for several",
)
@click.option("--name", default="", help="a label, e.g. the script that uses it")
@friendly_errors
@_domain_errors
def token_create(email: str, expires_days: int, scopes: tuple[str, ...], name: str) -> None:
    """Create a token for an account and print it once."""
    with _session() as session:
        account = service.get_account_by_email(session, email=email)
        if account is None:
            raise ValidationFailed([{"path": "email", "message": "no such account"}])
        new = service.create_token(
            session, account=account, name=name, expires_days=expires_days, scopes=scopes or None
        )
        click.echo(new.secret)
        click.echo(
            f"Token {new.token.prefix}… for {account.email}, scopes: {new.token.scopes}, "
            f"expires {new.token.expires_at:%Y-%m-%d}. It is shown only this once.",
            err=True,
        )


@token_group.command("list")
@click.option("--email", default=None)
@friendly_errors
@_domain_errors
def token_list(email: str | None) -> None:
    """List tokens (prefix, account, scopes, expiry, last use, revoked)."""
    with _session() as session:
        account = service.get_account_by_email(session, email=email) if email else None
        if email and account is None:
            raise ValidationFailed([{"path": "email", "message": "no such account"}])
        for t in service.list_tokens(session, account=account):
            click.echo(
                f"{t.id}\t{t.prefix}…\t{t.scopes}\texpires {t.expires_at or 'never'}\t"
                f"last used {t.last_used_at or 'never'}" + ("\trevoked" if t.revoked_at else "")
            )


@token_group.command("revoke")
@click.argument("ref", metavar="PREFIX-OR-ID")
@friendly_errors
@_domain_errors
def token_revoke(ref: str) -> None:
    """Revoke a token by its id or shown prefix."""
    with _session() as session:
        token = service.revoke_token(session, ref=ref)
        click.echo(f"Revoked token {token.prefix}… ({token.id})")
