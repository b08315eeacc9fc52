"""A tiny WebM made in the test: the browser encodes a few seconds of drawn frames with
WebCodecs (VP8), and `mux` writes them into a WebM with its duration and cues, so the
page's player knows how long it is and can seek. Nothing is fetched, nothing checked in."""

import base64
import struct

ENCODE = """async ({width, height, fps, seconds}) => {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext("2d");
  const chunks = [];
  const encoder = new VideoEncoder({
    output: (chunk) => {
      const data = new Uint8Array(chunk.byteLength);
      chunk.copyTo(data);
      let text = "";
      for (const byte of data) text += String.fromCharCode(byte);
      chunks.push({time: chunk.timestamp, key: chunk.type === "key", data: btoa(text)});
    },
    error: (error) => { throw error; },
  });
  encoder.configure({codec: "vp8", width, height, bitrate: 60000, framerate: fps});
  for (let index = 0; index < fps * seconds; index++) {
    context.fillStyle = `hsl(${index * 9}, 70%, 45%)`;
    context.fillRect(0, 0, width, height);
    context.fillStyle = "#fff";
    context.font = "16px sans-serif";
    context.fillText(String(index), 8, height / 2);
    const frame = new VideoFrame(canvas, {timestamp: index * 1e6 / fps, duration: 1e6 / fps});
    encoder.encode(frame, {keyFrame: index % fps === 0});
    frame.close();
  }
  await encoder.flush();
  return chunks;
}"""


def _element(element_id: int, payload: bytes) -> bytes:
    """An EBML element: its id, an 8-byte size, the payload."""
    identity = element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")
    return identity + b"\x01" + len(payload).to_bytes(7, "big") + payload


def _uint(element_id: int, value: int, width: int = 8) -> bytes:
    return _element(element_id, value.to_bytes(width, "big"))


def mux(chunks: list[dict], *, width: int, height: int, seconds: float) -> bytes:
    """A WebM of VP8 `chunks` ({time: µs, key, data: base64}): one cluster per key frame,
    a duration, and cues placed before the clusters."""
    header = _element(
        0x1A45DFA3,
        _uint(0x4286, 1, 1)
        + _uint(0x42F7, 1, 1)
        + _uint(0x42F2, 4, 1)
        + _uint(0x42F3, 8, 1)
        + _element(0x4282, b"webm")
        + _uint(0x4287, 2, 1)
        + _uint(0x4285, 2, 1),
    )
    info = _element(
        0x1549A966,
        _uint(0x2AD7B1, 1_000_000, 4)
        + _element(0x4489, struct.pack(">d", seconds * 1000))
        + _element(0x4D80, b"lodestar-tests")
        + _element(0x5741, b"lodestar-tests"),
    )
    video = _uint(0xB0, width, 2) + _uint(0xBA, height, 2)
    tracks = _element(
        0x1654AE6B,
        _element(
            0xAE,
            _uint(0xD7, 1, 1)
            + _uint(0x73C5, 1, 1)
            + _uint(0x83, 1, 1)
            + _uint(0x9C, 0, 1)
            + _element(0x86, b"V_VP8")
            + _element(0xE0, video),
        ),
    )
    clusters: list[tuple[int, bytes]] = []
    blocks: list[bytes] = []
    start = 0
    for chunk in chunks:
        millis = round(chunk["time"] / 1000)
        if chunk["key"] and blocks:
            clusters.append((start, b"".join(blocks)))
            blocks = []
        if not blocks:
            start = millis
        flags = b"\x80" if chunk["key"] else b"\x00"
        blocks.append(
            _element(
                0xA3, b"\x81" + struct.pack(">h", millis - start) + flags + base64.b64decode(chunk["data"])
            )
        )
    clusters.append((start, b"".join(blocks)))
    bodies = [_element(0x1F43B675, _uint(0xE7, time) + body) for time, body in clusters]

    def cues(positions):
        return _element(
            0x1C53BB6B,
            b"".join(
                _element(0xBB, _uint(0xB3, time) + _element(0xB7, _uint(0xF7, 1, 1) + _uint(0xF1, position)))
                for (time, _body), position in zip(clusters, positions, strict=True)
            ),
        )

    before = len(info) + len(tracks) + len(cues([0] * len(clusters)))
    positions, offset = [], before
    for body in bodies:
        positions.append(offset)
        offset += len(body)
    segment = info + tracks + cues(positions) + b"".join(bodies)
    return header + _element(0x18538067, segment)


def make_webm(page, *, width=192, height=108, fps=10, seconds=8) -> bytes:
    """A WebM of `seconds` seconds encoded by the page's browser."""
    chunks = page.evaluate(ENCODE, {"width": width, "height": height, "fps": fps, "seconds": seconds})
    return mux(chunks, width=width, height=height, seconds=seconds)
