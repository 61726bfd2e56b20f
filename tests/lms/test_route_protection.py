"""No page is open to visitors by accident: every route but a few public ones asks for a log-in."""

from __future__ import annotations

from werkzeug.routing import Rule

#: Endpoints a visitor may use without logging in.
PUBLIC = {
    "static",
    "lms.home",
    "lms.set_language",
    "lms.health",
    "accounts.login",
    "accounts.logout",
    "lms_api.openapi",
    # Checking a certificate is for anyone who holds one in their hands.
    "certificates_public.verify_form",
    "certificates_public.verify",
    "certificates_public.verify_json",
    "certificates_public.short",
    "certificates_public.offline",
    "certificates_public.service_worker",
    "certificates.issuer",
    "certificates.status_list",
    "certificates.status_token",
}


def _example_url(rule: Rule) -> str:
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        values[name] = 1 if type(converter).__name__ == "IntegerConverter" else "x"
    return rule.build(values, append_unknown=False)[1]


def test_every_non_public_route_asks_visitors_to_log_in(app):
    client = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC or rule.endpoint.endswith(".static"):
            continue  # stylesheets of the host and the plugins
        url = _example_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            if rule.rule.startswith("/api/"):  # the JSON API answers 401, it does not redirect
                assert response.status_code == 401, (rule.endpoint, method, response.status_code)
                assert response.json["error"]["status"] == 401
            else:
                assert response.status_code == 302, (rule.endpoint, method, response.status_code)
                assert "/account/login" in response.headers["Location"], rule.endpoint
            checked += 1
    assert checked > 20
