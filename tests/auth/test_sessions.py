"""Login sessions: their cookies, remember-me, and ending them on the server."""

from __future__ import annotations

import pytest

from tests.builders import DEFAULT_PASSWORD
from tests.pages import CSRF_RE, csrf_token, login, post_form

NEW_PASSWORD = "an unusual passphrase of mine"
SESSION_COOKIE = "session"
REMEMBER_COOKIE = "remember_token"
LOGIN_REDIRECT = "/login?next=%2Fsettings%2Fpassword"


def set_cookie_header(response, name: str) -> str:
    """The Set-Cookie header that sets the named cookie."""
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    return headers[0]


def attributes(header: str) -> set[str]:
    """A Set-Cookie header's attributes, lower-cased ('httponly', 'samesite=lax', ...)."""
    return {part.strip().lower() for part in header.split(";")[1:]}


def cookie_value(client, name: str) -> str:
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def client_with(app, **cookies: str):
    """A fresh browser that carries only the given cookies."""
    browser = app.test_client()
    for name, value in cookies.items():
        browser.set_cookie(name, value)
    return browser


def is_logged_in(client) -> bool:
    """Members reach the password page; anyone else is sent to log in."""
    response = client.get("/settings/password")
    if response.status_code == 200:
        return True
    assert response.headers["Location"] == LOGIN_REDIRECT
    return False


def logout(client):
    return post_form(client, "/logout")


def change_password(client, current=DEFAULT_PASSWORD, new=NEW_PASSWORD):
    data = {"current_password": current, "new_password": new}
    return post_form(client, "/settings/password", data)


# Cookies


def test_session_cookie_is_httponly_and_samesite_lax(client, member):
    header = set_cookie_header(login(client, "alice"), SESSION_COOKIE)
    assert {"httponly", "samesite=lax"} <= attributes(header)


def test_remember_me_sets_an_httponly_samesite_lax_cookie(client, member):
    header = set_cookie_header(login(client, "alice", remember=True), REMEMBER_COOKIE)
    assert {"httponly", "samesite=lax"} <= attributes(header)


def test_login_without_remember_me_sets_no_remember_cookie(client, member):
    login(client, "alice")
    assert client.get_cookie(REMEMBER_COOKIE) is None


def test_cookies_are_not_secure_without_https(client, member):
    response = login(client, "alice", remember=True)
    assert "secure" not in attributes(set_cookie_header(response, SESSION_COOKIE))
    assert "secure" not in attributes(set_cookie_header(response, REMEMBER_COOKIE))


@pytest.fixture
def https_app(make_app, member):
    """The same database served by an app configured for HTTPS."""
    return make_app(HTTPS=True)


def test_cookies_are_secure_when_configured_for_https(https_app):
    browser = https_app.test_client()
    base = "https://localhost"
    form = browser.get("/login", base_url=base).get_data(as_text=True)
    token = CSRF_RE.search(form)
    data = {"csrf_token": token[1] or token[2], "handle": "alice", "password": DEFAULT_PASSWORD}
    data["remember"] = "y"
    response = browser.post(
        "/login", data=data, base_url=base, headers={"Referer": f"{base}/login"}
    )
    assert response.headers["Location"] == "/"
    assert "secure" in attributes(set_cookie_header(response, SESSION_COOKIE))
    assert "secure" in attributes(set_cookie_header(response, REMEMBER_COOKIE))


# Remember me


def test_remember_cookie_alone_logs_a_returning_browser_in(app, client, member):
    login(client, "alice", remember=True)
    returning = client_with(app, **{REMEMBER_COOKIE: cookie_value(client, REMEMBER_COOKIE)})
    assert is_logged_in(returning)


def test_session_cookie_alone_keeps_the_browser_logged_in(app, client, member):
    login(client, "alice")
    same_browser = client_with(app, **{SESSION_COOKIE: cookie_value(client, SESSION_COOKIE)})
    assert is_logged_in(same_browser)


# Logging out


def test_logout_redirects_home_logged_out(client, member):
    login(client, "alice")
    assert logout(client).headers["Location"] == "/"
    assert not is_logged_in(client)


def test_logout_ends_the_session_on_the_server(app, client, member):
    login(client, "alice")
    copied = cookie_value(client, SESSION_COOKIE)
    logout(client)
    assert not is_logged_in(client_with(app, **{SESSION_COOKIE: copied}))


def test_logout_ends_the_remember_me_login_on_the_server(app, client, member):
    login(client, "alice", remember=True)
    copied = cookie_value(client, REMEMBER_COOKIE)
    logout(client)
    assert not is_logged_in(client_with(app, **{REMEMBER_COOKIE: copied}))


def test_logout_ends_the_login_for_a_browser_holding_copies_of_both_cookies(app, client, member):
    login(client, "alice", remember=True)
    copied = {name: cookie_value(client, name) for name in (SESSION_COOKIE, REMEMBER_COOKIE)}
    logout(client)
    assert not is_logged_in(client_with(app, **copied))


def test_logout_ends_only_that_login(app, client, member):
    other_browser = app.test_client()
    login(other_browser, "alice")
    login(client, "alice")
    logout(client)
    assert is_logged_in(other_browser)


def test_get_logout_does_not_log_out(client, member):
    login(client, "alice")
    assert client.get("/logout").status_code == 405
    assert is_logged_in(client)


def test_logout_without_a_csrf_token_does_not_log_out(client, member):
    login(client, "alice")
    assert client.post("/logout").status_code == 400
    assert is_logged_in(client)


def test_logout_with_a_wrong_csrf_token_does_not_log_out(client, member):
    login(client, "alice")
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert is_logged_in(client)


def test_logout_button_posts_with_a_csrf_token(client, member):
    login(client, "alice")
    html = client.get("/").get_data(as_text=True)
    form = html[html.index('<form action="/logout" method="post">') :]
    form = form[: form.index("</form>")]
    assert 'name="csrf_token"' in form


# Changing the password ends the other logins


def test_changing_the_password_logs_out_the_members_other_logins(app, client, member):
    other_browser = app.test_client()
    login(other_browser, "alice")
    login(client, "alice")
    change_password(client)
    assert not is_logged_in(other_browser)


def test_changing_the_password_ends_other_remember_me_logins(app, client, member):
    other_browser = app.test_client()
    login(other_browser, "alice", remember=True)
    copied = cookie_value(other_browser, REMEMBER_COOKIE)
    login(client, "alice")
    change_password(client)
    assert not is_logged_in(client_with(app, **{REMEMBER_COOKIE: copied}))


def test_changing_the_password_keeps_this_browser_logged_in(client, member):
    login(client, "alice")
    change_password(client)
    assert is_logged_in(client)


def test_changing_the_password_keeps_this_browsers_remember_me(app, client, member):
    login(client, "alice", remember=True)
    change_password(client)
    returning = client_with(app, **{REMEMBER_COOKIE: cookie_value(client, REMEMBER_COOKIE)})
    assert is_logged_in(returning)


def test_refused_password_change_keeps_the_other_logins(app, client, member):
    other_browser = app.test_client()
    login(other_browser, "alice")
    login(client, "alice")
    change_password(client, current="not my password")
    assert is_logged_in(other_browser)


def test_csrf_token_from_before_login_is_not_valid_after_it(client, member):
    """Logging in starts a fresh session, so a token planted before the login is useless."""
    planted = csrf_token(client)
    login(client, "alice")
    assert client.post("/logout", data={"csrf_token": planted}).status_code == 400
    assert is_logged_in(client)
