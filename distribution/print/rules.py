"""Printability rules of a print provider, in millimetres where they are lengths.

Why configurable: the providers' figures differ and change over time (Digipost's validator has
required 12, 14 and 20 pages at most and a left "silent zone" of 18 x 70 mm, later 15 x 80 mm from
95 mm below the top), so every figure here is a default, not a law.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

A4_WIDTH: float = float(A4[0])  # points
A4_HEIGHT: float = float(A4[1])


@dataclass(frozen=True, slots=True)
class PrintRules:
    """``address_*`` place the recipient for a left-window envelope (C5/E65, window 20 mm from the
    left, about 45 mm below the top); the silent zone is a strip on the left edge, kept free of text
    for the enveloping machine's barcode."""

    max_pages: int = 20
    silent_zone_width_mm: float = 15.0
    silent_zone_top_mm: float = 95.0
    silent_zone_height_mm: float = 80.0
    address_left_mm: float = 22.0
    address_top_mm: float = 50.0
    address_width_mm: float = 85.0
    address_height_mm: float = 35.0
    tolerance_mm: float = 1.5  # how far a page may be off A4 and still count as A4
    scale_attachments: bool = True  # False: an attachment page that is not A4 refuses the print file

    def __post_init__(self) -> None:
        if self.max_pages < 2:
            raise ValueError("max_pages must leave room for page 1 and the address sheet")
        if self.address_left_mm < self.silent_zone_width_mm and self._window_meets_zone():
            raise ValueError("the address window overlaps the left-margin silent zone")
        if self.address_left_mm + self.address_width_mm > A4_WIDTH / mm:
            raise ValueError("the address window does not fit on an A4 page")
        if self.address_top_mm + self.address_height_mm > A4_HEIGHT / mm:
            raise ValueError("the address window does not fit on an A4 page")

    def _window_meets_zone(self) -> bool:
        window_bottom = self.address_top_mm + self.address_height_mm
        zone_bottom = self.silent_zone_top_mm + self.silent_zone_height_mm
        return self.address_top_mm < zone_bottom and window_bottom > self.silent_zone_top_mm

    def is_a4(self, width: float, height: float) -> bool:
        """True for A4 portrait or landscape (sizes in points)."""
        tolerance = float(self.tolerance_mm * mm)
        portrait = abs(width - A4_WIDTH) <= tolerance and abs(height - A4_HEIGHT) <= tolerance
        landscape = abs(width - A4_HEIGHT) <= tolerance and abs(height - A4_WIDTH) <= tolerance
        return portrait or landscape
