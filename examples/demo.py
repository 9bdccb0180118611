"""`make demo`: every ChatClient method against a dev server started just for it.

Starts the dev server on a free 127.0.0.1 port with a temporary database, walks
through each method, prints what happened, and stops the server.
"""

from __future__ import annotations

import textwrap
from itertools import islice

from pyclann import ChatSession, ClannError, ClannNotFoundError, Role
from pyclann.testing import dev_server


def table(sessions: list[ChatSession]) -> str:
    rows = [("title", "tree", "updated", "id")]
    rows += [(s.title, s.tree or "-", s.updated_at.strftime("%H:%M:%S.%f")[:-3], s.id) for s in sessions]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    return textwrap.indent("\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]]), "  ")


def main() -> None:
    with dev_server() as server, server.client("alice") as chat:
        print(f"Dev server on {server.url} (user alice, token {server.tokens['alice']})\n")

        print("create_session() x3")
        trip = chat.create_session("Trip to Galway", "alice", tree="travel")
        chat.create_session("Sourdough starter", "alice", tree="kitchen")
        chat.create_session("Reading list", "alice")

        print("append_message() x3, to 'Trip to Galway'")
        chat.append_message(trip, Role.SYSTEM, "You are a helpful travel planner.")
        chat.append_message(trip, Role.USER, "Two days in Galway in March: where should we stay?")
        answer = chat.append_message(trip, Role.ASSISTANT, "Near the Latin Quarter: you can walk everywhere.")

        print("update_session(): rename it, now that the first exchange suggests a title\n")
        trip = chat.update_session(trip, title="Galway in March")

        print("list_sessions('alice'): most recently updated first, every page")
        print(table(chat.list_sessions("alice")) + "\n")
        print("list_sessions('alice', tree='travel')")
        print(table(chat.list_sessions("alice", tree="travel")) + "\n")
        print("iter_sessions('alice', page_size=2): fetched two at a time, as they are needed")
        print(table(list(islice(chat.iter_sessions("alice", page_size=2), 2))) + "\n")

        ulid = trip.id.split(":")[1]
        print(f"get_session('{ulid}'): the bare ULID works as well as the full ID")
        print(f"  {chat.get_session(ulid).title!r}, updated {trip.updated_at:%H:%M:%S.%f}\n")

        print("list_messages(trip): the ChatSession itself works too; oldest first")
        for message in chat.list_messages(trip):
            print(f"  {message.created_at:%H:%M:%S}  {message.role:>9}: {message.content}")
        first = chat.list_messages(trip)[0]
        print("iter_messages(trip, after=<the first message>): polling for what came after it")
        for message in chat.iter_messages(trip, after=first):
            print(f"  {message.role:>9}: {message.content}")
        print(f"get_message(trip, '{answer.id}')")
        print(f"  {chat.get_message(trip, answer.id).content!r}\n")

        print("with_raw_response.append_message(..., idempotency_key='k-1'), sent twice:")
        for _ in range(2):
            raw = chat.with_raw_response.append_message(trip, Role.USER, "Thanks!", idempotency_key="k-1")
            print(f"  {raw.status_code} {raw.parsed.id} replayed={raw.idempotent_replayed}")
        print(f"  {len(chat.list_messages(trip))} messages: the second was a replay, not a copy\n")

        print(f"delete_session('{trip.id}')")
        chat.delete_session(trip)
        print("delete_session() again, and the typed error it raises:")
        try:
            chat.delete_session(trip)
        except ClannNotFoundError as error:
            print(f"  {type(error).__name__}: {error}")
            print(f"  status_code={error.status_code}, problem_type={error.problem_type}")
        print("append_message() with a lone surrogate: refused before any request")
        try:
            chat.append_message(trip, Role.USER, "broken \ud800")
        except ClannError as error:
            print(f"  {type(error).__name__}: {error}")
    print("\nDev server stopped. Done.")


if __name__ == "__main__":
    main()
