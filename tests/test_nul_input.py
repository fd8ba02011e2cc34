"""NUL characters, which PostgreSQL cannot store, never cause a server error."""

from tests.pages import login, post_form


def test_nul_characters_anywhere_never_cause_a_server_error(app, client, member, board):
    assert client.get("/search", query_string={"q": "a\x00b"}).status_code == 200
    response = post_form(
        client,
        "/register",
        {
            "handle": "nully",
            "display_name": "Nul\x00Name",
            "password": "a long enough passphrase",
            "email": "nully@example.com",
        },
    )
    assert response.status_code == 302
    login(client, "alice")
    response = post_form(
        client, "/new", {"board": board, "subject": "Nul\x00here", "body": "b\x00"}
    )
    assert response.status_code == 302
