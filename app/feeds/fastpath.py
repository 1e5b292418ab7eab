"""A WSGI shortcut for the commonest feed request: a calendar client asking whether its copy is still current.

When a partner feed was served by this worker a moment ago and the client sends that ETag back, the answer is
304 without entering Flask. Entries live CACHE_SECONDS and are dropped on publish, revoke and regenerate."""
from __future__ import annotations

import re
from time import monotonic

from ..security import hash_token
from ..services import feeds

_PATH = re.compile(r"^/feeds/([A-Za-z0-9_\-]{20,100})\.ics$")


class ConditionalFeeds:
    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "GET" and environ.get("HTTP_IF_NONE_MATCH"):
            match = _PATH.match(environ.get("PATH_INFO", ""))
            if match:
                known = feeds.known_etags.get(hash_token(match.group(1)))
                if known and known[0] > monotonic() and f'"{known[1]}"' in environ["HTTP_IF_NONE_MATCH"]:
                    start_response("304 NOT MODIFIED", [("ETag", f'"{known[1]}"'),
                                                        ("Cache-Control", "private, max-age=900")])
                    return [b""]
        return self.wsgi_app(environ, start_response)
