"""Typed keys of the aiohttp application and request state."""
from aiohttp import web

SERVICES = web.AppKey("services", object)
DISPATCHER = web.AppKey("dispatcher", object)
METRICS = web.AppKey("metrics", object)
RUN_SENDER = web.AppKey("run_sender", bool)
IN_FLIGHT = web.AppKey("in_flight", set)          # the tasks of the requests being handled
LOOP = web.AppKey("loop", object)                 # the event loop serving the app, known once it starts
REQUEST_ID = web.RequestKey("request_id", str)
