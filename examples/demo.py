"""`make demo`: every ChatClient method against a dev server started just for it.

Starts the dev server on a free 127.0.0.1 port with a temporary database, walks
through the five methods, prints what happened, and stops the server.
"""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

from clann_devserver.server import DEV_TOKENS, running
from pyclann import ChatClient, ChatSession, ClannNotFoundError, Role

TOKEN = next(iter(DEV_TOKENS))


def table(sessions: list[ChatSession]) -> str:
    rows = [("title", "tree", "updated", "id")]
    rows += [(s.title, s.tree or "-", s.updated_at.strftime("%H:%M:%S.%f")[:-3], s.id) for s in sessions]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="clann-demo-") as folder, running(Path(folder) / "demo.sqlite3") as server:
        print(f"Dev server on {server.url} (user alice, token {TOKEN})\n")
        with ChatClient(server.url, token=TOKEN) as chat:
            print("create_session() x3")
            trip = chat.create_session("Trip to Galway", "alice", tree="travel")
            chat.create_session("Sourdough starter", "alice", tree="kitchen")
            chat.create_session("Reading list", "alice")

            print("append_message() x3, to 'Trip to Galway'\n")
            chat.append_message(trip.id, Role.SYSTEM, "You are a helpful travel planner.")
            chat.append_message(trip.id, Role.USER, "Two days in Galway in March: where should we stay?")
            chat.append_message(trip.id, Role.ASSISTANT, "Near the Latin Quarter: you can walk everywhere.")

            print("list_sessions('alice'): most recently updated first")
            print(textwrap.indent(table(chat.list_sessions("alice")), "  "), "\n")
            print("list_sessions('alice', tree='travel')")
            print(textwrap.indent(table(chat.list_sessions("alice", tree="travel")), "  "), "\n")

            print(f"list_messages('{trip.id.split(':')[1]}'): the bare ULID works as well as the full ID")
            for message in chat.list_messages(trip.id.split(":")[1]):
                print(f"  {message.created_at:%H:%M:%S}  {message.role:>9}: {message.content}")

            print(f"\ndelete_session('{trip.id}')")
            chat.delete_session(trip.id)
            print("delete_session() again, and the typed error it raises:")
            try:
                chat.delete_session(trip.id)
            except ClannNotFoundError as error:
                print(f"  {type(error).__name__}: {error}")
                print(f"  status_code={error.status_code}, request_id={error.request_id}")
                print("  The session is gone, so a second delete is a 404; ClannNotFoundError says so.")
    print("\nDev server stopped. Done.")


if __name__ == "__main__":
    main()
