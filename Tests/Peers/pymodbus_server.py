"""Serve a fieldpoll fixture (SPEC section 3, raw form) with pymodbus: a peer nobody here wrote.

Usage: python pymodbus_server.py FIXTURE.json

Listens on 127.0.0.1 on a port the OS picks and prints "listening on 127.0.0.1:PORT" on
stdout once ready. Runs until killed.
"""

import asyncio
import json
import logging
import sys

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice


def blocks(table, bits):
    data = []
    for start, values in sorted(table.items(), key=lambda item: int(item[0])):
        if bits:
            data.append(SimData(int(start), values=[bool(v) for v in values], datatype=DataType.BITS))
        else:
            data.append(SimData(int(start), values=[int(v) & 0xFFFF for v in values], datatype=DataType.REGISTERS))
    # pymodbus refuses an empty block list; one invalid address keeps the whole table absent.
    if not data:
        # pymodbus refuses an empty block list; one bit that is off stands in for an empty table.
        data.append(SimData(65535, values=[False], datatype=DataType.BITS) if bits else SimData(0, datatype=DataType.INVALID))
    return data


async def serve(path):
    with open(path, encoding="utf-8") as file:
        fixture = json.load(file)
    devices = []
    for unit, tables in fixture["units"].items():
        simdata = (
            blocks(tables.get("coil", {}), True),
            blocks(tables.get("discrete", {}), True),
            blocks(tables.get("holding", {}), False),
            blocks(tables.get("input", {}), False),
        )
        devices.append(SimDevice(int(unit), simdata=simdata))
    server = ModbusTcpServer(devices, address=("127.0.0.1", 0))
    await server.serve_forever(background=True)
    port = server.transport.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{port}", flush=True)
    await server.serving


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    asyncio.run(serve(sys.argv[1]))
