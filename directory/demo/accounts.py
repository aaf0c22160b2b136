"""The demo's accounts: a volunteer in Lviv, a moderator for Kyiv region and an admin, with
passwords published in the README, so anyone can try the volunteer and moderator apps.

Only `aid-directory demo` creates them (or `load-demo --demo-accounts`, when asked). Their emails
are at `demo.invalid` (a domain that can never exist, RFC 2606), which is how the rest of the code
knows them: in demo mode they sign in without a second factor (no phone needed; every other
moderator and admin still enrols TOTP), and `aid-directory check` reports them as an error in a
database that is not a demo's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.accounts import service as accounts
from directory.accounts.models import Account, Role
from directory.listings.places import ensure_places


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    role: Role
    display_name: str
    regions: tuple[str, ...]  # place codes; none = everywhere
    who: str  # for the printed sign-in help


DEMO_ACCOUNTS = (
    DemoAccount(
        "volunteer@demo.invalid",
        "demo-volunteer",
        Role.volunteer,
        "Maria (demo volunteer)",
        ("lviv",),
        "volunteer in Lviv",
    ),
    DemoAccount(
        "moderator@demo.invalid",
        "demo-moderator",
        Role.moderator,
        "Taras (demo moderator)",
        ("UA-30", "UA-32"),
        "moderator for Kyiv region (Kyiv City and Kyiv Oblast)",
    ),
    DemoAccount(
        "admin@demo.invalid", "demo-admin", Role.admin, "Demo admin", (), "admin, everywhere"
    ),
    DemoAccount(
        "kyiv-volunteer@demo.invalid",
        "demo-volunteer",
        Role.volunteer,
        "Olena (demo volunteer)",
        ("UA-30", "UA-32"),
        "volunteer in Kyiv (her proposals wait in the moderator's queue)",
    ),
)


def ensure_demo_accounts(session: Session) -> list[DemoAccount]:
    """Create the demo accounts that are missing (never commits); returns all of them."""
    ensure_places(session)  # their regions
    existing = set(
        session.scalars(
            select(Account.email).where(Account.email.in_([a.email for a in DEMO_ACCOUNTS]))
        )
    )
    for demo in DEMO_ACCOUNTS:
        if demo.email not in existing:
            accounts.create_account(
                session,
                email=demo.email,
                password=demo.password,
                role=demo.role,
                display_name=demo.display_name,
                locale="uk" if demo.role != Role.admin else "en",
                region_codes=demo.regions,
            )
    return list(DEMO_ACCOUNTS)


def demo_accounts_in(session: Session) -> list[str]:
    """The emails of the demo accounts this database holds that can sign in (not disabled)."""
    return list(
        session.scalars(
            select(Account.email)
            .where(
                Account.email.like("%@" + accounts.DEMO_EMAIL_DOMAIN),
                Account.disabled.is_(False),
            )
            .order_by(Account.email)
        )
    )


def sign_in_help(base_url: str) -> str:
    """What `aid-directory demo` prints: where to sign in, and as whom."""
    lines = [
        f"Volunteer and moderator app: {base_url}en/manage/ (in Ukrainian /uk/manage/, ...)",
        "Demo accounts (no second factor in the demo):",
    ]
    width = max(len(a.email) for a in DEMO_ACCOUNTS)
    lines += [f"  {a.email:<{width}} password {a.password:<15} {a.who}" for a in DEMO_ACCOUNTS]
    return "\n".join(lines)
