"""The HTTP API and the operator web page. Importing it loads no model or media code."""

from livecut.api.app import close_event_streams, create_app

__all__ = ["close_event_streams", "create_app"]
