"""QR codes as inline SVG (``segno``): an enrollment code for a device, a TOTP key for an
authenticator app. No script and no style attribute, so the console's CSP holds."""

from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg(text: str, title: str) -> Markup:
    """``text`` as an inline SVG QR code, ``title`` its accessible name."""
    svg = segno.make(text, error="m").svg_inline(omitsize=True, border=4, dark="#0b0c0c",
                                                 light="#ffffff", svgclass="qr", title=title)
    return Markup(svg)  # noqa: S704 - segno's own markup of our text; nothing user-typed
