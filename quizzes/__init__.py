"""Quizzes plugin: question banks, GIFT import/export, attempts, item analysis."""
