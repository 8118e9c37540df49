#!/usr/bin/python3
# lean-sink.py: a webhook receiver for benchmarks, with as little work per request as an
# HTTP/1.1 server can do (asyncio, keep-alive, no framework), so that on a small machine the
# receiver's own CPU does not hold the senders back. It answers every request 200 {"ok":true}
# and records its receipt; the control paths are a subset of t/fakes/webhook-sink.pl's:
#
#   lean-sink.py PORT
#   GET /__sink/stats      {"requests":N,"delivered":N}
#   GET /__sink/requests   [{"method","path","body","key","at": unix time of receipt}]
import asyncio
import json
import sys
import time

requests = []


def answer(writer, status, body, keep):
    writer.write(b"HTTP/1.1 %d OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n"
                 % (status, len(body), b"" if keep else b"Connection: close\r\n") + body)


async def serve(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            at = time.time()
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = (lines[0].split(" ") + ["", ""])[:3]
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            length = int(headers.get("content-length", "0") or 0)
            body = await reader.readexactly(length) if length > 0 else b""
            keep = headers.get("connection", "").lower() != "close"
            path = target.split("?", 1)[0]
            if path == "/__sink/stats":
                out = {"requests": len(requests), "delivered": len(requests)}
                answer(writer, 200, json.dumps(out).encode(), keep)
            elif path == "/__sink/requests":
                answer(writer, 200, json.dumps(requests).encode(), keep)
            else:
                requests.append({"method": method, "path": path, "at": at,
                                 "key": headers.get("x-pulse-delivery", ""),
                                 "body": body.decode("utf-8", "replace")})
                answer(writer, 200, b'{"ok":true}', keep)
            await writer.drain()
            if not keep:
                break
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", int(sys.argv[1]))
    async with server:
        await server.serve_forever()


asyncio.run(main())
