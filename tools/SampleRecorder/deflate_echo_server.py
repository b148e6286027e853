"""A python-websockets echo server with permessage-deflate as it comes by default, for samples 42 and 43.

websockets.serve negotiates permessage-deflate unless told not to (compression="deflate", server and
client windows of 12 bits). A compressed frame whose DEFLATE data does not inflate fails the connection
with close 1002; a text message that inflates to invalid UTF-8 fails it with close 1007. Prints its
port, serves one connection, and exits when that connection has ended, or with an error after 8 s.
Run with Debian's python3 and python3-websockets.
"""
import asyncio
import sys

import websockets


async def main():
    done = asyncio.Event()

    async def handler(websocket, *_):
        try:
            async for message in websocket:
                await websocket.send(message)
        except websockets.ConnectionClosed:
            pass
        finally:
            done.set()

    async with websockets.serve(handler, "127.0.0.1", 0, compression="deflate") as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        try:
            await asyncio.wait_for(done.wait(), 8)
        except asyncio.TimeoutError:
            sys.exit("no connection ended within 8 s")


asyncio.run(main())
