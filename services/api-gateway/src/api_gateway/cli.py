"""Account and access-key administration: `python -m api_gateway account|accesskey ...`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import timedelta

from shared.db import create_engine, session_factory

from api_gateway.accounts import AccountStore
from api_gateway.permissions import PERMISSION_NAMES, Permission
from api_gateway.settings import Settings


def parse_permission(text: str) -> Permission:
    total = Permission.NONE
    for part in text.split(","):
        name = part.strip()
        if name not in PERMISSION_NAMES:
            raise SystemExit(f"unknown permission {name!r}; use {', '.join(PERMISSION_NAMES)}")
        total |= PERMISSION_NAMES[name]
    return total


async def _run(args: argparse.Namespace, settings: Settings) -> None:
    engine = create_engine(settings.database_url, pool_size=1)
    store = AccountStore(session_factory(engine))
    try:
        if args.what == "account":
            password = args.password or getpass.getpass("password: ")
            account_id = await store.create_account(
                args.username, password, parse_permission(args.permission), args.customer_id
            )
            print(f"account {args.username} created: {account_id}")
        elif args.what == "password":
            password = args.password or getpass.getpass("new password: ")
            await store.change_password(args.username, password)
            print(f"password of {args.username} changed; its earlier tokens no longer work")
        elif args.what == "delete-account":
            await store.delete_account(args.username)
            print(f"account {args.username} deleted; its tokens and access keys no longer work")
        else:
            expire = timedelta(days=args.expire_days) if args.expire_days else None
            key = await store.create_accesskey(args.username, args.name, expire)
            print(f"access key for {args.username} (shown only now): {key}")
    finally:
        await engine.dispose()


def cli(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m api_gateway")
    sub = parser.add_subparsers(dest="what", required=True)
    account = sub.add_parser("account", help="create an account")
    account.add_argument("--username", required=True)
    account.add_argument("--password", help="prompted for when omitted")
    account.add_argument(
        "--permission", default="CustomerAdmin", help="comma list, e.g. ProjectSuperAdmin"
    )
    account.add_argument("--customer-id", default=None)
    password = sub.add_parser("password", help="set an account's password (ends its tokens)")
    password.add_argument("--username", required=True)
    password.add_argument("--password", help="prompted for when omitted")
    delete = sub.add_parser("delete-account", help="delete an account (ends its tokens)")
    delete.add_argument("--username", required=True)
    key = sub.add_parser("accesskey", help="create an access key for an account")
    key.add_argument("--username", required=True)
    key.add_argument("--name", default="cli")
    key.add_argument("--expire-days", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        asyncio.run(_run(args, Settings()))
    except (ValueError, Exception) as exc:
        sys.exit(f"error: {exc}")
