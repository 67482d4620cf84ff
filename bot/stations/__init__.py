"""Polling stations abroad: finding them by name or location and describing them."""
