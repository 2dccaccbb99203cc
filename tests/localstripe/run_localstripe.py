"""Start localstripe for billstream's tests: loopback only, and never touching disk.

localstripe's own entry point listens on every interface and, even with --from-scratch, writes
/tmp/localstripe.pickle on every change; tests need neither.

usage: run_localstripe.py --port PORT --from-scratch
"""
import argparse

from aiohttp import web

import localstripe.resources as resources

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--from-scratch", action="store_true", required=True)
args = parser.parse_args()

# --from-scratch: start empty (no load) and never persist.
resources.Store.dump_to_disk = lambda self: None

from localstripe.server import app  # noqa: E402  (after the patch above)

web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)
