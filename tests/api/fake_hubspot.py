"""A local HTTP server that answers as HubSpot's CRM v3 contacts API documents: create
(201, or 409 "Contact already exists. Existing ID: n"), update (200, or 404), search by
lastmodifieddate with paging; and, on demand, 429s, 500s and answers too slow to wait for."""

import itertools
import json
import threading
import time
from datetime import UTC, datetime, timedelta

from tests.factories import LocalHttpServer, QuietHandler


class FakeHubSpot:
    def __init__(self, token: str = "pat-test"):
        self.token = token
        self.contacts: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self.failures: list[tuple[int, dict]] = []  # (status or -seconds to stall, headers)
        self.ids = itertools.count(501)
        self.clock = datetime(2026, 12, 1, tzinfo=UTC)
        self.lock = threading.Lock()
        self.local: LocalHttpServer | None = None

    @property
    def url(self) -> str:
        return self.local.url

    def start(self):
        self.local = LocalHttpServer(self._handler())
        return self

    def stop(self):
        self.local.stop()

    def tick(self) -> str:
        self.clock += timedelta(seconds=1)
        return self.clock.isoformat().replace("+00:00", "Z")

    def set_in_crm(self, record_id: str, **properties):
        """A salesperson changes the contact in HubSpot."""
        with self.lock:
            contact = self.contacts[record_id]
            contact["properties"].update(properties)
            contact["updatedAt"] = self.tick()

    def _handler(self):
        fake = self

        class Handler(QuietHandler):
            def _answer(self, status, body, headers=None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                with fake.lock:
                    fake.requests.append((self.command, self.path, body))
                    failure = fake.failures.pop(0) if fake.failures else None
                if failure:
                    status, headers = failure
                    if status < 0:
                        time.sleep(-status)
                        return None
                    message = "You have reached your secondly limit." if status == 429 else "internal error"
                    return self._answer(status, {"status": "error", "message": message}, headers)
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self._answer(
                        401, {"status": "error", "message": "Authentication credentials not found."}
                    )
                with fake.lock:
                    return self._route(body)

            def _route(self, body):
                path = self.path
                if self.command == "POST" and path == "/crm/v3/objects/contacts":
                    email = body["properties"].get("email")
                    for record_id, contact in fake.contacts.items():
                        if contact["properties"].get("email") == email:
                            message = f"Contact already exists. Existing ID: {record_id}"
                            return self._answer(
                                409, {"status": "error", "message": message, "category": "CONFLICT"}
                            )
                    record_id, stamp = str(next(fake.ids)), fake.tick()
                    fake.contacts[record_id] = {"properties": dict(body["properties"]), "updatedAt": stamp}
                    return self._answer(201, self._record(record_id))
                if self.command == "PATCH" and path.startswith("/crm/v3/objects/contacts/"):
                    record_id = path.rsplit("/", 1)[1]
                    if record_id not in fake.contacts:
                        return self._answer(404, {"status": "error", "message": "resource not found"})
                    fake.contacts[record_id]["properties"].update(body["properties"])
                    fake.contacts[record_id]["updatedAt"] = fake.tick()
                    return self._answer(200, self._record(record_id))
                if self.command == "POST" and path == "/crm/v3/objects/contacts/search":
                    return self._search(body)
                return self._answer(404, {"status": "error", "message": "not found"})

            def _record(self, record_id):
                contact = fake.contacts[record_id]
                return {
                    "id": record_id,
                    "properties": {**contact["properties"], "hs_object_id": record_id},
                    "createdAt": contact["updatedAt"],
                    "updatedAt": contact["updatedAt"],
                    "archived": False,
                }

            def _search(self, body):
                since = int(body["filterGroups"][0]["filters"][0]["value"])
                rows = sorted(
                    (contact["updatedAt"], record_id)
                    for record_id, contact in fake.contacts.items()
                    if datetime.fromisoformat(contact["updatedAt"].replace("Z", "+00:00")).timestamp() * 1000
                    > since
                )
                start = int(body.get("after") or 0)
                page = rows[start : start + body.get("limit", 10)]
                answer = {"total": len(rows), "results": [self._record(record_id) for _, record_id in page]}
                if start + len(page) < len(rows):
                    answer["paging"] = {"next": {"after": str(start + len(page))}}
                return self._answer(200, answer)

            do_POST = do_PATCH = _handle

        return Handler
