"""The browsable API under the Content-Security-Policy."""
from __future__ import annotations

from csp.constants import SELF
from rest_framework import renderers


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable pages carry style attributes and a <style> block of their own: their HTML alone
    allows inline styles (scripts stay as strict as everywhere else)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response._csp_replace = {"style-src": [SELF, "'unsafe-inline'"]}
        return super().render(data, accepted_media_type, renderer_context)
