"""A python-websockets server whose keepalive gives up fast, for sample 38.

python-websockets pings every ping_interval seconds and, when no pong comes within ping_timeout, fails
the connection with close code 1011 "keepalive ping timeout" (its defaults are 20 s and 20 s; here 1 s
and 1 s so the recording takes seconds). Prints its port, serves one connection, and exits when that
connection has ended, or with an error after 8 s. Run with Debian's python3 and python3-websockets.
"""
import asyncio
import sys

import websockets


async def main():
    done = asyncio.Event()

    async def handler(websocket, *_):
        try:
            await websocket.wait_closed()
        finally:
            done.set()

    async with websockets.serve(handler, "127.0.0.1", 0, ping_interval=1, ping_timeout=1, compression=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        try:
            await asyncio.wait_for(done.wait(), 8)
        except asyncio.TimeoutError:
            sys.exit("no connection ended within 8 s")


asyncio.run(main())
