"""Accounts: users, roles and role grants, log-in, admin user management."""
