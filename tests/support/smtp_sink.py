"""A real SMTP server for billstream's tests: every message it accepts is stored as a file.

usage: smtp_sink.py --port PORT --dir DIR --parent PID

Listens on 127.0.0.1:PORT (aiosmtpd, no TLS, no auth) and prints "ready" once it does. Each
accepted message becomes DIR/<stem>.eml, its raw bytes as received, next to DIR/<stem>.json
with the SMTP envelope (MAIL FROM, RCPT TO); the .eml appears last, by a rename, so a reader
never sees half a message. Stems sort in arrival order across restarts. Exits by itself once
the process PID (the test run) is gone, so a killed test run leaves no server behind.
"""
import argparse
import asyncio
import itertools
import json
import os
import time

from aiosmtpd.smtp import SMTP


class Store:
    def __init__(self, directory):
        self.directory = directory
        self.sequence = itertools.count()

    async def handle_DATA(self, server, session, envelope):
        stem = f"{time.time_ns():020d}-{next(self.sequence):06d}"
        path = os.path.join(self.directory, stem)
        with open(path + ".json", "w") as file:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, file)
        with open(path + ".eml.part", "wb") as file:
            file.write(envelope.original_content or envelope.content)
        os.rename(path + ".eml.part", path + ".eml")
        return "250 Message accepted for delivery"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--parent", type=int, required=True)
    args = parser.parse_args()

    loop = asyncio.get_running_loop()
    store = Store(args.dir)
    # A fixed hostname: without one aiosmtpd asks the resolver for this machine's FQDN.
    await loop.create_server(
        lambda: SMTP(store, hostname="billstream-smtp-sink", loop=loop),
        host="127.0.0.1",
        port=args.port,
    )
    print("ready", flush=True)
    while os.getppid() == args.parent:
        await asyncio.sleep(1)


asyncio.run(main())
