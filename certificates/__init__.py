"""Certificates plugin: frozen PDF certificates, signed credentials, public verification."""
