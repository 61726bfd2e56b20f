"""Lessons plugin: teaching sessions, attendance, lesson plans, ToT stages, monitoring visits."""
