"""Organisations: the regions of Kyrgyzstan and the madrasas in them."""
