"""Command line: `flask --app app seed-demo`, `create-user`, `api-token`."""
from __future__ import annotations

import click
from flask import Flask
from flask_migrate import upgrade

from .models import Role
from .services import demo, users


def register_cli(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--reset", is_flag=True, help="Delete all data first and start over.")
    def seed_demo(reset: bool) -> None:
        """Create or upgrade the database and fill it with a demo semester of the real region."""
        upgrade()
        if reset:
            demo.reset()
        report = demo.seed()
        click.echo(report.summary())
        for email, role, password in report.accounts:
            click.echo(f"  {role:8} {email:32} password: {password}")

    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option("--name", default="")
    def create_user(email: str, role: str, password: str, name: str) -> None:
        """Create a staff account (prompts for the password when --password is omitted)."""
        try:
            user = users.create_user(email, Role(role), password, name)
        except users.UserError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"created {user.role.value} {user.email}")

    @app.cli.command("api-token")
    @click.argument("email")
    @click.argument("name")
    def api_token(email: str, name: str) -> None:
        """Issue a JSON API token for a staff account (printed once; it has the account's role)."""
        from .extensions import db
        from .models import User
        from .services import api_tokens

        user = db.session.scalar(db.select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise click.ClickException(f"no staff account {email}")
        click.echo(api_tokens.issue(user, name))
