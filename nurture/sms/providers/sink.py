"""Development: nothing leaves the machine; the SMS outbox shows each text as sent."""


class Sink:
    name = "sink"

    def send(self, outgoing) -> str:
        return f"sink-{outgoing.id}"
