"""The audit log: one hash-chained entry for every state change that matters.

Importing this package (the app factory does, for its models) also switches on the
security logging that needs no code in the views: an ``access.denied`` entry for every 403
answer (``lms.audit.denied``, a ``request_finished`` signal receiver) and the redaction of
secrets and personal data from every application log record (``lms.log_redaction``).
"""

from lms.audit import denied as _denied  # noqa: F401  (connects the signal receiver)
from lms.log_redaction import install as _install_log_redaction

_install_log_redaction()
