"""The HubSpot adapter: CRM v3 contacts (POST /crm/v3/objects/contacts, PATCH
/crm/v3/objects/contacts/{id}, POST /crm/v3/objects/contacts/search) with a private
app's token as a Bearer header.

Stages: ours go out as `lifecyclestage` (lost as `hs_lead_status=UNQUALIFIED`, since a
lifecycle stage has no "lost"); a contact whose lifecycle stage became
salesqualifiedlead, opportunity or customer, or whose lead status became UNQUALIFIED,
comes back as sql, opportunity, won or lost.
"""

import json
import re
import urllib.error
import urllib.request
from datetime import UTC, datetime

from api.crm.adapter import CrmRefused, CrmUnavailable, Person, RecordGone, StageChange

LIFECYCLE = {
    "new": "lead",
    "engaged": "lead",
    "mql": "marketingqualifiedlead",
    "sql": "salesqualifiedlead",
    "customer": "customer",
}
PULLED = {"salesqualifiedlead": "sql", "opportunity": "opportunity", "customer": "won"}
EXISTING_ID = re.compile(r"Existing ID: (\d+)")
PAGE = 100


class HubSpot:
    name = "hubspot"

    def __init__(self, *, base_url: str, token: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            with exc:
                status, text = exc.code, exc.read().decode("utf-8", "replace")
                retry_after = exc.headers.get("Retry-After")
            try:
                answer = json.loads(text)
            except ValueError:
                answer = {"message": text[:200]}
            if status == 429 or status >= 500:
                seconds = int(retry_after) if retry_after and retry_after.isdigit() else None
                raise CrmUnavailable(
                    f"HubSpot {status}: {answer.get('message', '')}"[:500], retry_after=seconds
                ) from exc
            return status, answer
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise CrmUnavailable(f"HubSpot unreachable: {exc}"[:500]) from exc

    @staticmethod
    def properties(person: Person) -> dict:
        values = {
            "email": person.email,
            "firstname": person.name,
            "company": person.company,
            "jobtitle": person.job_title,
            "phone": person.phone,
        }
        if person.stage == "lost":
            values["hs_lead_status"] = "UNQUALIFIED"
        else:
            values["lifecyclestage"] = LIFECYCLE.get(person.stage, "lead")
        return values

    def push(self, record_id: str | None, person: Person) -> tuple[str, bool]:
        body = {"properties": self.properties(person)}
        if record_id is None:
            status, answer = self._call("POST", "/crm/v3/objects/contacts", body)
            if status == 409 and (found := EXISTING_ID.search(answer.get("message", ""))):
                # The address is already a contact (made in HubSpot, or by a run whose
                # answer was lost): adopt that record instead of making another.
                return self.push(found.group(1), person)
        else:
            status, answer = self._call("PATCH", f"/crm/v3/objects/contacts/{record_id}", body)
            if status == 404:
                raise RecordGone(record_id)
        if status not in (200, 201):
            raise CrmRefused(f"HubSpot {status}: {answer.get('message', '')}"[:500])
        return str(answer["id"]), status == 201

    def changes(self, since: datetime | None):
        after = None
        millis = int((since or datetime(1970, 1, 1)).replace(tzinfo=UTC).timestamp() * 1000)
        while True:
            body = {
                "filterGroups": [
                    {
                        "filters": [
                            {"propertyName": "lastmodifieddate", "operator": "GT", "value": str(millis)}
                        ]
                    }
                ],
                "properties": ["lifecyclestage", "hs_lead_status", "lastmodifieddate"],
                "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
                "limit": PAGE,
            }
            if after:
                body["after"] = after
            status, answer = self._call("POST", "/crm/v3/objects/contacts/search", body)
            if status != 200:
                raise CrmRefused(f"HubSpot {status}: {answer.get('message', '')}"[:500])
            for record in answer.get("results", []):
                props = record.get("properties") or {}
                stage = (
                    "lost"
                    if props.get("hs_lead_status") == "UNQUALIFIED"
                    else PULLED.get(props.get("lifecyclestage"))
                )
                changed = datetime.fromisoformat(record["updatedAt"].replace("Z", "+00:00")).astimezone(UTC)
                if stage:
                    yield StageChange(str(record["id"]), stage, changed.replace(tzinfo=None))
            after = ((answer.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return


def from_config(config) -> HubSpot | None:
    if not config.get("CRM_HUBSPOT_TOKEN"):
        return None
    return HubSpot(
        base_url=config["CRM_HUBSPOT_URL"],
        token=config["CRM_HUBSPOT_TOKEN"],
        timeout=config["CRM_TIMEOUT_SECONDS"],
    )
